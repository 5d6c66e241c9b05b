/* The baseline for session_ratio: the least a client process can do, i.e.
 * start, connect to a SOCK_SEQPACKET socket, send one message, receive
 * one, exit. No cJSON, no section. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec pause = { 0, 5000000 };
	char buf[256];
	int fd;

	if (argc < 2)
		return 2;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	for (int i = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0; i++) {
		if (i > 2000)
			return 3;
		nanosleep(&pause, NULL);
	}
	memset(buf, 'h', 64);
	if (send(fd, buf, 64, 0) != 64 || recv(fd, buf, sizeof(buf), 0) <= 0)
		return 4;
	close(fd);
	return 0;
}
