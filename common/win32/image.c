/* The executable's own image on Windows: its section table, read from
 * the module's headers in memory (IMAGE_DOS_HEADER -> IMAGE_NT_HEADERS ->
 * IMAGE_SECTION_HEADERs), as `dumpbin /headers` reads it from the file. */
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "image.h"
#include "internal.h"

bool image_has_shared_sections(void)
{
	return true;
}

int image_describe(struct image_facts *f, const void *private_counter,
		   const void *shared_counter)
{
	const BYTE *base = (const BYTE *)GetModuleHandleW(NULL);
	const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)(const void *)base;
	const IMAGE_NT_HEADERS *nt;
	const IMAGE_SECTION_HEADER *sec;
	uintptr_t rva = (uintptr_t)shared_counter - (uintptr_t)base;
	MEMORY_BASIC_INFORMATION mbi;

	(void)private_counter; /* in .data: the ordinary copy-on-write pages */
	f->format = IMAGE_FORMAT_PE;
	f->section_found = false;
	f->data_mapping[0] = '\0';
	if (base == NULL || dos->e_magic != IMAGE_DOS_SIGNATURE)
		return COWLAB_E_IO;
	nt = (const IMAGE_NT_HEADERS *)(const void *)(base + dos->e_lfanew);
	if (nt->Signature != IMAGE_NT_SIGNATURE)
		return COWLAB_E_IO;
	sec = IMAGE_FIRST_SECTION(nt);
	for (WORD i = 0; i < nt->FileHeader.NumberOfSections; i++) {
		DWORD size = sec[i].Misc.VirtualSize ? sec[i].Misc.VirtualSize
						     : sec[i].SizeOfRawData;

		if (rva < sec[i].VirtualAddress || rva >= (uintptr_t)sec[i].VirtualAddress + size)
			continue;
		/* Name is 8 bytes, NUL-padded only when shorter. */
		memcpy(f->section_name, sec[i].Name, IMAGE_SIZEOF_SHORT_NAME);
		f->section_name[IMAGE_SIZEOF_SHORT_NAME] = '\0';
		f->characteristics = sec[i].Characteristics;
		f->section_found = true;
		break;
	}
	if (VirtualQuery(shared_counter, &mbi, sizeof(mbi)) == sizeof(mbi))
		win32_protect_name(mbi.Protect, f->protect, sizeof(f->protect));
	return f->section_found ? COWLAB_OK : COWLAB_E_NOENT;
}
