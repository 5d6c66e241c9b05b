/* Errors keep the system's own words: an error from the OS carries its
 * number beside cowlab's kind, the kind compares as before, and the text
 * says both (err.h). */
#include <string.h>

#include "check.h"
#include "err.h"
#include "platform.h"

int main(void)
{
	/* EACCES on Linux, ERROR_ACCESS_DENIED on Windows: both 13 and 5 are
	 * "permission denied" in their worlds; the text is the system's */
	long number = platform_path_sep == '\\' ? 5 : 13;
	const char *words = platform_path_sep == '\\' ? "Windows error 5" : "EACCES";
	int err = err_with_os(COWLAB_E_ACCESS, number);

	CHECK(err < 0);
	CHECK(err_kind(err) == COWLAB_E_ACCESS && err_is(err, COWLAB_E_ACCESS));
	CHECK(!err_is(err, COWLAB_E_IO));
	CHECK(err_os_number(err) == number);
	CHECK_MSG(strncmp(cowlab_strerror(err), "permission denied (", 19) == 0 &&
		  strstr(cowlab_strerror(err), words) != NULL, "\"%s\"", cowlab_strerror(err));
	/* a kind alone says only cowlab's words; success is no error */
	CHECK(strcmp(cowlab_strerror(COWLAB_E_ACCESS), "permission denied") == 0);
	CHECK(err_os_number(COWLAB_E_ACCESS) == 0 && err_kind(COWLAB_OK) == COWLAB_OK);
	CHECK(err_with_os(COWLAB_E_IO, 0) == COWLAB_E_IO);
	/* a number too large to carry is dropped, the kind kept */
	CHECK(err_with_os(COWLAB_E_IO, 0x7fffffffL) == COWLAB_E_IO);
	/* two texts in one expression stay apart */
	char both[300];
	snprintf(both, sizeof(both), "%s|%s", cowlab_strerror(err), cowlab_strerror(COWLAB_E_NOENT));
	CHECK_MSG(strstr(both, "|not found") != NULL && strstr(both, words) != NULL, "%s", both);
	return check_exit("test-err");
}
