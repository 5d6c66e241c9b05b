/* What the Win32 backend's modules share with one another, and nothing
 * outside common/win32/ sees. */
#ifndef COWLAB_WIN32_INTERNAL_H
#define COWLAB_WIN32_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <windows.h>

/* Wine's version when running under Wine (ntdll exports
 * wine_get_version), else NULL. */
const char *win32_wine_version(void);
/* The build number RtlGetVersion gives (0 if it cannot say). */
unsigned long win32_build(void);

/* UTF-8 <-> UTF-16; the result is malloc'd, NULL on failure. */
wchar_t *win32_wide(const char *utf8);
char *win32_utf8(const wchar_t *wide);

/* A security descriptor that grants the current user alone full access
 * (free with LocalFree), for pipes and sections. */
PSECURITY_DESCRIPTOR win32_user_only_sd(void);
/* Whether `process` runs as the same user as this process. */
bool win32_same_user(HANDLE process);

/* A page protection as its PAGE_* name, with |PAGE_GUARD, |PAGE_NOCACHE
 * and |PAGE_WRITECOMBINE when set ("0" for none). */
void win32_protect_name(DWORD p, char *buf, size_t cap);

#endif
