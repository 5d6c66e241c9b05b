/* Windows: the section and the pipe carry a protected DACL that grants the
 * current user alone; the pipe is a message-mode pipe; a second server
 * cannot take a name in use (tested in the faults suite, "names"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <aclapi.h>

#include "channel.h"
#include "check.h"
#include "platform.h"
#include "section.h"

static PSID my_sid(void)
{
	static union { TOKEN_USER tu; char buf[256]; } u;
	HANDLE token;
	DWORD n;

	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
		return NULL;
	if (!GetTokenInformation(token, TokenUser, &u, sizeof(u), &n)) {
		CloseHandle(token);
		return NULL;
	}
	CloseHandle(token);
	return u.tu.User.Sid;
}

/* The object's DACL: protected, one ACE, allowing this user. */
static void check_dacl(HANDLE h, SE_OBJECT_TYPE type, const char *what)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	SECURITY_DESCRIPTOR_CONTROL control = 0;
	DWORD revision;
	PACL dacl = NULL;
	ACCESS_ALLOWED_ACE *ace = NULL;
	PSID me = my_sid();

	CHECK(me != NULL);
	CHECK_MSG(GetSecurityInfo(h, type, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl, NULL,
				  &sd) == ERROR_SUCCESS, "%s: no security info", what);
	if (sd == NULL)
		return;
	CHECK(GetSecurityDescriptorControl(sd, &control, &revision));
	CHECK_MSG(control & SE_DACL_PROTECTED, "%s: the DACL is not protected", what);
	CHECK_MSG(dacl != NULL && dacl->AceCount == 1, "%s: %d ACEs", what,
		  dacl != NULL ? dacl->AceCount : -1);
	if (dacl != NULL && GetAce(dacl, 0, (void **)&ace)) {
		CHECK(ace->Header.AceType == ACCESS_ALLOWED_ACE_TYPE);
		CHECK_MSG(me != NULL && EqualSid((PSID)&ace->SidStart, me),
			  "%s: the ACE is not for this user", what);
	}
	LocalFree(sd);
}

int main(void)
{
	struct channel_hub *hub = NULL;
	struct section *s = NULL;
	wchar_t wname[128];
	char name[64], why[256];
	uint8_t rnd[4];
	HANDLE h;
	DWORD flags = 0;

	CHECK(platform_random(rnd, sizeof(rnd)) == 0);
	snprintf(name, sizeof(name), "sec-test-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);

	/* the section, opened by its name as a client would */
	CHECK(section_create(&s, name, platform_page_size()) == 0);
	swprintf(wname, 128, L"%hs", section_name(s));
	h = OpenFileMappingW(READ_CONTROL, FALSE, wname);
	CHECK_MSG(h != NULL, "cannot open the section by name");
	if (h != NULL) {
		check_dacl(h, SE_KERNEL_OBJECT, "section");
		CloseHandle(h);
	}
	section_destroy(s);

	/* the pipe, opened as a client would */
	CHECK(channel_hub_listen(&hub, name, why, sizeof(why)) == 0);
	swprintf(wname, 128, L"\\\\.\\pipe\\cowlab-%hs", name);
	h = CreateFileW(wname, READ_CONTROL | GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
	CHECK_MSG(h != INVALID_HANDLE_VALUE, "cannot open the pipe");
	if (h != INVALID_HANDLE_VALUE) {
		check_dacl(h, SE_KERNEL_OBJECT, "pipe");
		CHECK(GetNamedPipeInfo(h, &flags, NULL, NULL, NULL));
		CHECK_MSG(flags & PIPE_TYPE_MESSAGE, "the pipe is not message-mode");
		CloseHandle(h);
	}
	channel_hub_destroy(hub);
	return check_exit("test-security-win32");
}
