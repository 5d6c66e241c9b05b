/* Linux: the socket directory must be private (a real directory of this
 * user, mode 0700, not a symlink) or the server refuses it; the socket is
 * 0600; a peer of another user is rejected by its credentials
 * (SO_PEERCRED), by the channel layer and by the server, which lists it.
 *
 *   test-security-posix SERVER CLIENT
 *
 * The other-user part needs root (to connect as uid 65534 through a 0700
 * directory); without root it is reported as skipped (exit 77), not passed. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"
#include "check.h"
#include "cowlab-config.h"
#include "err.h"
#include "platform.h"
#include "process.h"
#include "protocol.h"

#define OTHER_UID 65534

static char runtime[] = "/tmp/cowlab-sec-XXXXXX";

static void set_dir(const char *how)
{
	char dir[256], target[256];

	snprintf(dir, sizeof(dir), "%s/cowlab", runtime);
	snprintf(target, sizeof(target), "%s/elsewhere", runtime);
	rmdir(dir);
	unlink(dir);
	if (strcmp(how, "symlink") == 0) {
		mkdir(target, 0700);
		CHECK(symlink(target, dir) == 0);
	} else if (strcmp(how, "open") == 0) {
		CHECK(mkdir(dir, 0700) == 0 && chmod(dir, 0755) == 0);
	}
}

/* The channel layer refuses a directory that is not private. */
static void test_directory(void)
{
	static const char *const bad[] = { "symlink", "open" };
	struct channel_hub *hub = NULL;
	char sock[300], why[256];
	struct stat st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_dir(bad[i]);
		CHECK_MSG(err_is(channel_hub_listen(&hub, "sec", why, sizeof(why)), COWLAB_E_ACCESS),
			  "a %s socket directory was accepted", bad[i]);
		channel_hub_destroy(hub);
		hub = NULL;
	}
	set_dir("none");
	CHECK(channel_hub_listen(&hub, "sec", why, sizeof(why)) == 0);
	snprintf(sock, sizeof(sock), "%s/cowlab/sec.sock", runtime);
	CHECK(lstat(sock, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
	snprintf(sock, sizeof(sock), "%s/cowlab", runtime);
	CHECK(lstat(sock, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	channel_hub_destroy(hub);
}

/* In a child: become OTHER_UID for credentials but keep root's file
 * access (fsuid), so the 0700 directory does not stop us before the
 * server's own check can; connect, say hello, expect "denied". */
static int other_user_child(const char *name)
{
	static uint8_t buf[CHANNEL_MSG_MAX];
	struct proto_hello h = { .pid = platform_pid() };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct proto_msg m;
	size_t len;
	ssize_t n;
	char *text;
	int fd;

	if (setresuid(0, OTHER_UID, 0) != 0)
		return 10;
	setfsuid(0);
	/* A raw socket: cowlab's own client would refuse a directory that is
	 * not its user's; a hostile peer would not. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/cowlab/%s.sock", runtime, name);
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	for (int i = 0; i < 1500; i++) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (i == 1499)
			return 11;
		platform_sleep_ms(20);
	}
	snprintf(h.version, sizeof(h.version), "%s", COWLAB_VERSION);
	text = proto_build_hello(&h, &len);
	if (send(fd, text, len, MSG_NOSIGNAL) != (ssize_t)len)
		return 12;
	free(text);
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0 || proto_parse(buf, (size_t)n, NULL, &m, NULL, 0) != 0 ||
	    m.type != PROTO_ERROR || strcmp(m.u.error.code, "denied") != 0)
		return 13;
	close(fd);
	return 0;
}

static void test_other_user(const char *server, const char *client)
{
	const char *sargv[] = { server, "--clients", "1", "--name", "sec2", "--json",
				"--timeout", "30", NULL };
	const char *cargv[] = { client, "--name", "sec2", NULL };
	struct process *srv = NULL, *cl = NULL;
	int status = -1, code = -1;
	pid_t child;
	char out[300];

	snprintf(out, sizeof(out), "%s/report.json", runtime);
	CHECK(process_start(&srv, server, sargv, out) == 0);
	child = fork();
	if (child == 0)
		_exit(other_user_child("sec2"));
	CHECK(child > 0 && waitpid(child, &status, 0) == child);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the other user was not denied (child status %d)", status);
	/* then a client of ours completes the run */
	CHECK(process_start(&cl, client, cargv, "/dev/null") == 0);
	if (srv != NULL)
		CHECK(process_wait(srv, 60000, &code) == 0 && code == 0);
	if (cl != NULL)
		CHECK(process_wait(cl, 60000, &code) == 0 && code == 0);
	process_destroy(srv);
	process_destroy(cl);

	FILE *f = fopen(out, "r");
	static char text[1 << 20];
	size_t n = f != NULL ? fread(text, 1, sizeof(text) - 1, f) : 0;
	if (f != NULL)
		fclose(f);
	text[n] = '\0';
	cJSON *r = cJSON_Parse(text);
	const cJSON *rej = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "rejected"), 0);
	const cJSON *why = cJSON_GetObjectItemCaseSensitive(rej, "reason");
	CHECK_MSG(cJSON_IsString(why) && strstr(why->valuestring, "another user"),
		  "the report does not list the other user: %.300s", text);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "rejected")) == 1);
	cJSON_Delete(r);
	unlink(out);
}

/* Runs the server with a descriptor limit (soft = hard = `limit`), its
 * report to `out`; returns its exit status. */
static pid_t server_limited(const char *server, long limit, const char *const argv[],
			    const char *out)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct rlimit rl = { (rlim_t)limit, (rlim_t)limit };
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0 || setrlimit(RLIMIT_NOFILE, &rl) != 0)
			_exit(100);
		execv(server, (char *const *)argv);
		_exit(101);
	}
	return pid;
}

static cJSON *read_json(const char *path)
{
	return cJSON_Parse(check_read_file(path));
}

/* Out of descriptors: a run that cannot have them refuses to start (exit
 * 2, says how to raise the limit); one that runs out on the way closes
 * what it cannot take, says so, and does not spin or lose a connection. */
static void test_descriptor_limits(const char *server)
{
	const char *too_many[] = { server, "--clients", "100", "--name", "lim1", "--json", NULL };
	const char *few[] = { server, "--clients", "1", "--name", "lim2", "--json",
			      "--timeout", "3", NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char out[300];
	int status = -1, fds[100], connected = 0, refused = 0;
	pid_t pid;
	cJSON *r;
	const cJSON *c;

	snprintf(out, sizeof(out), "%s/limits.json", runtime);
	pid = server_limited(server, 64, too_many, out);
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 2);
	r = read_json(out);
	c = cJSON_GetObjectItemCaseSensitive(r, "error");
	CHECK_MSG(cJSON_IsString(c) && strstr(c->valuestring, "ulimit -n"), "no advice given");
	cJSON_Delete(r);

	/* 80 descriptors: enough to start (1 + 64), not for 100 connections */
	pid = server_limited(server, 80, few, out);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/cowlab/lim2.sock", runtime);
	for (int i = 0; i < 100; i++) {
		fds[i] = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		/* the first waits for the server to listen (10 s at most) */
		for (int t = 0; t < (i == 0 ? 1000 : 1); t++) {
			if (connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) == 0) {
				connected++;
				break;
			}
			platform_sleep_ms(10);
		}
	}
	struct rusage ru;
	CHECK(wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 3);
	/* it waited its 3 s for a client: asleep, not spinning on the listener */
	double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	CHECK_MSG(cpu < 1.0, "the server used %.2f s of CPU while it waited", cpu);
	for (int i = 0; i < 100; i++)
		close(fds[i]);
	r = read_json(out);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(r, "rejected")) {
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(c, "reason");
		refused += cJSON_IsString(why) && strstr(why->valuestring, "out of file descriptors");
	}
	CHECK(connected == 100);
	CHECK_MSG(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "rejected")) == connected,
		  "%d connections, %d listed", connected,
		  cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "rejected")));
	CHECK_MSG(refused > 0, "no connection was refused for want of descriptors");
	cJSON_Delete(r);
	unlink(out);
}

/* The section a client receives is sealed: truncating it (which would
 * make every reader die of SIGBUS) fails, and the run completes. */
static void test_seals(const char *server)
{
	const char *argv[] = { server, "--clients", "1", "--name", "seal", "--json",
			       "--timeout", "3", NULL };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct proto_hello h = { .pid = platform_pid() };
	union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	static uint8_t buf[CHANNEL_MSG_MAX];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct process *srv = NULL;
	int fd = -1, memfd = -1, code = -1;
	size_t len;
	char out[300], *text;

	snprintf(out, sizeof(out), "%s/seal.json", runtime);
	CHECK(process_start(&srv, server, argv, out) == 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/cowlab/seal.sock", runtime);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	for (int t = 0; t < 1000 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0; t++)
		platform_sleep_ms(10);
	snprintf(h.version, sizeof(h.version), "%s", COWLAB_VERSION);
	text = proto_build_hello(&h, &len);
	CHECK(send(fd, text, len, MSG_NOSIGNAL) == (ssize_t)len);
	free(text);
	CHECK(recvmsg(fd, &mh, 0) > 0);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_type == SCM_RIGHTS)
			memcpy(&memfd, CMSG_DATA(cm), sizeof(int));
	CHECK_MSG(memfd >= 0, "no descriptor came with the assignment");
	if (memfd >= 0) {
		CHECK_MSG(ftruncate(memfd, 0) != 0 && errno == EPERM, "the section could be shrunk");
		CHECK_MSG(ftruncate(memfd, 1 << 30) != 0 && errno == EPERM, "the section could grow");
		close(memfd);
	}
	close(fd); /* lost: the server must still finish and report */
	if (srv != NULL)
		CHECK(process_wait(srv, 60000, &code) == 0 && code == 3);
	process_destroy(srv);
	cJSON *r = read_json(out);
	CHECK_MSG(r != NULL, "no report: the server died");
	cJSON_Delete(r);
	unlink(out);
}

/* Whether len bytes are well-formed UTF-8 (no cut character, no stray
 * continuation byte, no overlong lead). */
static bool utf8_valid(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t n = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 && s[i] >= 0xc2 ? 2 :
			   (s[i] & 0xf0) == 0xe0 ? 3 : (s[i] & 0xf8) == 0xf0 && s[i] <= 0xf4 ? 4 : 0;

		if (n == 0 || i + n > len)
			return false;
		for (size_t k = 1; k < n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

/* A client installed under a long non-ASCII path: its .data line (in the
 * hello, then in the report) is longer than the field and must be cut at
 * a character boundary, so that the --json report stays valid UTF-8.
 * Run twice, one byte apart, so that a cut falls inside a character. */
static void test_utf8_path(const char *server, const char *client, const char *lead)
{
	char dir[1024], exe[1100], out[300], cmd[2300];
	struct process *srv = NULL;
	int code = -1;

	snprintf(dir, sizeof(dir), "%s/%s", runtime, lead);
	for (int i = 0; i < 120; i++)
		strcat(dir, "\xd0\xbf"); /* U+043F, two bytes, 240 in all */
	snprintf(exe, sizeof(exe), "%s/cowlab-client", dir);
	snprintf(out, sizeof(out), "%s/utf8.json", runtime);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", client, exe);
	if (!CHECK_OK(mkdir(dir, 0700) == 0 && system(cmd) == 0))
		return;
	const char *argv[] = { server, "--spawn", "1", "--client", exe, "--name", "utf8",
			       "--json", "--timeout", "20", NULL };
	CHECK(process_start(&srv, server, argv, out) == 0);
	if (srv != NULL)
		CHECK(process_wait(srv, 60000, &code) == 0 && code == 0);
	process_destroy(srv);
	FILE *f = fopen(out, "rb");
	static unsigned char text[1 << 20];
	size_t len = f != NULL ? fread(text, 1, sizeof(text), f) : 0;

	if (f != NULL)
		fclose(f);
	CHECK_MSG(len > 0 && utf8_valid(text, len), "the report (%zu bytes) is not valid UTF-8",
		  len);
	CHECK(strstr((const char *)text, "rw-p") != NULL && strstr((const char *)text, "...") != NULL);
	unlink(out);
	unlink(exe);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	char path[300];

	if (argc < 3) {
		fprintf(stderr, "usage: test-security-posix SERVER CLIENT\n");
		return 2;
	}
	if (mkdtemp(runtime) == NULL)
		return 2;
	setenv("XDG_RUNTIME_DIR", runtime, 1);
	test_directory();
	set_dir("none");
	test_descriptor_limits(argv[1]);
	test_seals(argv[1]);
	test_utf8_path(argv[1], argv[2], "");  /* the cut falls on either byte */
	test_utf8_path(argv[1], argv[2], "a");
	test_utf8_path(argv[1], argv[2], "\xe9"); /* Latin-1: no UTF-8 at all, sent as '?' */
	if (geteuid() == 0) {
		/* the other user must be able to reach the directory's parent */
		chmod(runtime, 0711);
		test_other_user(argv[1], argv[2]);
	}
	snprintf(path, sizeof(path), "%s/cowlab", runtime);
	for (const char *const *n = (const char *const[]){ "sec", "sec2", "lim1", "lim2", "seal",
							    NULL };
	     *n != NULL; n++) {
		char lock[400];

		/* each of these servers ended on its own: it took its lock file
		 * with it (killed, it would leave it for the next to take) */
		snprintf(lock, sizeof(lock), "%s/%s.lock", path, *n);
		CHECK_MSG(access(lock, F_OK) != 0 && errno == ENOENT, "%s was left behind", lock);
		unlink(lock);
	}
	rmdir(path);
	snprintf(path, sizeof(path), "%s/elsewhere", runtime);
	rmdir(path);
	rmdir(runtime);
	if (geteuid() != 0 && check_failures == 0) {
		printf("test-security-posix: directory checks passed; the other-user check "
		       "needs root: SKIPPED\n");
		return 77;
	}
	return check_exit("test-security-posix");
}
