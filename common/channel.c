/* The platform-independent part of the channel module. */
#include <string.h>

#include "channel.h"

bool channel_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= CHANNEL_NAME_MAX || name[0] == '.')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-") == n;
}
