/* Linux: faults outside cowlab's control give the right verdict and a
 * message that keeps the cause: a client short of memory or descriptors
 * leaves its checks unproven (never BROKEN), names in the way and
 * directories that will not do are named with the OS's own words, a
 * client's setup errors exit 2 and a dropped client says why it was
 * dropped.
 *
 *   test-faults-posix SCENARIO SERVER CLIENT
 *
 * Scenarios: names, runtime-dir, client-setup, client-short, client-vm,
 * dropped, memory-cgroup. client-vm limits the client's address space
 * (ulimit -v), which a sanitizer's shadow memory cannot live with: under
 * AddressSanitizer it is reported as skipped (exit 77), not passed; so is
 * memory-cgroup on a machine that lets us make no memory cgroup. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "platform.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static char runtime[] = "/tmp/cowlab-faults-XXXXXX";
static const char *server, *client;

struct run {
	const char *const *argv;
	const char *env;         /* "NAME=value" put in the environment, or NULL */
	int limit;               /* RLIMIT_NOFILE (> 0), or 0 */
	long vm_kib;             /* RLIMIT_AS in KiB (> 0), or 0 */
	char out[300], err[300]; /* where its stdout and stderr go */
};

/* Starts argv[0] with its output in files named after `tag`. */
static pid_t start(struct run *r, const char *tag)
{
	pid_t pid;

	snprintf(r->out, sizeof(r->out), "%s/%s.out", runtime, tag);
	snprintf(r->err, sizeof(r->err), "%s/%s.err", runtime, tag);
	pid = fork();
	if (pid == 0) {
		int o = open(r->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(r->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(100);
		close(o);
		close(e);
		if (r->env != NULL)
			putenv((char *)r->env);
		if (r->vm_kib > 0) {
			struct rlimit rl = { (rlim_t)r->vm_kib * 1024, (rlim_t)r->vm_kib * 1024 };

			if (setrlimit(RLIMIT_AS, &rl) != 0)
				_exit(100);
		}
		if (r->limit > 0) {
			struct rlimit rl = { (rlim_t)r->limit, (rlim_t)r->limit };

			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				_exit(100);
		}
		execv(r->argv[0], (char *const *)r->argv);
		_exit(101);
	}
	return pid;
}

static int finish(pid_t pid)
{
	int status = -1;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run(struct run *r, const char *tag)
{
	return finish(start(r, tag));
}

static char *slurp(const char *path)
{
	return check_read_file(path);
}

/* Whether the file says `words`: the server wraps what it says at 80
 * columns, so a line break and the next line's indent read as a space. */
static bool says(const char *path, const char *words)
{
	static char flat[1 << 16];
	const char *t = slurp(path);
	size_t n = 0;

	for (; *t != '\0' && n + 1 < sizeof(flat); t++) {
		if (*t == '\n' && t[1] == ' ') {
			flat[n++] = ' ';
			while (t[1] == ' ')
				t++;
			continue;
		}
		flat[n++] = *t;
	}
	flat[n] = '\0';
	return strstr(flat, words) != NULL;
}

#define CHECK_SAYS(path, words) \
	CHECK_MSG(says(path, words), "%s does not say \"%s\":\n%s", path, words, slurp(path))

/* ---- names and directories ---- */

/* A directory in the socket's place, a lock file that is a symlink or a
 * directory: the server refuses (exit 2) and says which path and why, in
 * the OS's words; nothing it did not make is removed. */
static void scenario_names(void)
{
	static const struct {
		const char *name, *file, *kind, *words;
	} cases[] = {
		{ "n1", "n1.sock", "dir", "n1.sock is in the way: it is not a socket" },
		{ "n2", "n2.lock", "symlink", "ELOOP" },
		{ "n3", "n3.lock", "dir", "Is a directory, EISDIR" },
	};
	char env[320], path[320];

	snprintf(env, sizeof(env), "XDG_RUNTIME_DIR=%s", runtime);
	snprintf(path, sizeof(path), "%s/cowlab", runtime);
	mkdir(path, 0700);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { server, "--clients", "1", "--name", cases[i].name, "--json",
				       NULL };
		struct run r = { .argv = argv, .env = env };
		struct stat st;
		cJSON *rep;

		snprintf(path, sizeof(path), "%s/cowlab/%s", runtime, cases[i].file);
		if (strcmp(cases[i].kind, "dir") == 0)
			CHECK(mkdir(path, 0700) == 0);
		else
			CHECK(symlink("/etc/passwd", path) == 0);
		CHECK_MSG(run(&r, cases[i].name) == 2, "%s: not refused", cases[i].file);
		CHECK_SAYS(r.err, cases[i].words);
		CHECK_SAYS(r.err, cases[i].file);
		rep = cJSON_Parse(slurp(r.out));
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(rep, "error");
		CHECK_MSG(cJSON_IsString(e) && strstr(e->valuestring, cases[i].words) != NULL,
			  "%s: the report's error does not say why", cases[i].file);
		cJSON_Delete(rep);
		CHECK_MSG(lstat(path, &st) == 0, "%s was removed", cases[i].file);
		if (strcmp(cases[i].kind, "dir") == 0)
			rmdir(path);
		else
			unlink(path);
	}
}

/* A directory of 125 bytes' path, made: too long to hold a socket path. */
static void long_dir(char *dir, size_t cap, char fill)
{
	int n = snprintf(dir, cap, "%s/", runtime);

	while (n < 125)
		dir[n++] = fill;
	dir[n] = '\0';
	CHECK(mkdir(dir, 0700) == 0);
}

/* XDG_RUNTIME_DIR too long for a socket path: the server says so (not
 * "name too long"); one open to other users without the sticky bit is not
 * used: the server says so and runs in its private /tmp directory. */
static void scenario_runtime_dir(void)
{
	const char *argv[] = { server, "--spawn", "1", "--name", "rd", "--json", "--client",
			       client, NULL };
	char env[400], dir[300];
	struct run r = { .argv = argv, .env = env };

	long_dir(dir, sizeof(dir), 'd');
	snprintf(env, sizeof(env), "XDG_RUNTIME_DIR=%s", dir);
	CHECK(run(&r, "long") == 2);
	CHECK_SAYS(r.err, "XDG_RUNTIME_DIR is too long");
	rmdir(dir);

	snprintf(dir, sizeof(dir), "%s/open", runtime);
	CHECK(mkdir(dir, 0700) == 0 && chmod(dir, 0777) == 0);
	snprintf(env, sizeof(env), "XDG_RUNTIME_DIR=%s", dir);
	CHECK_MSG(run(&r, "open") == 0, "a run with an unsafe XDG_RUNTIME_DIR did not hold");
	CHECK_SAYS(r.err, "not using XDG_RUNTIME_DIR");
	snprintf(dir, sizeof(dir), "%s/open/cowlab", runtime);
	CHECK_MSG(access(dir, F_OK) != 0, "the server made its directory in %s", dir);
	snprintf(dir, sizeof(dir), "%s/open", runtime);
	rmdir(dir);
}

/* A client that cannot work here (its directory not private, a path too
 * long) exits 2, a setup error; one whose server is not there exits 3. */
static void scenario_client_setup(void)
{
	const char *argv[] = { client, "--name", "nobody", "--timeout", "1", NULL };
	char env[400], dir[300];
	struct run r = { .argv = argv, .env = env };

	snprintf(env, sizeof(env), "XDG_RUNTIME_DIR=%s", runtime);
	snprintf(dir, sizeof(dir), "%s/cowlab", runtime);
	mkdir(dir, 0700);
	CHECK(chmod(dir, 0755) == 0);
	CHECK_MSG(run(&r, "cl-open") == 2, "a client with a directory open to others: not 2");
	CHECK_SAYS(r.err, "is not a private directory");
	CHECK(chmod(dir, 0700) == 0);
	CHECK_MSG(run(&r, "cl-none") == 3, "a client with no server: not 3");
	CHECK_SAYS(r.err, "No such file or directory, ENOENT");

	long_dir(dir, sizeof(dir), 'c');
	snprintf(env, sizeof(env), "XDG_RUNTIME_DIR=%s", dir);
	CHECK_MSG(run(&r, "cl-long") == 2, "a client with a path too long: not 2");
	CHECK_SAYS(r.err, "XDG_RUNTIME_DIR is too long");
	rmdir(dir);
}

/* A client with no server, its stderr a terminal: it says at once where
 * it looks, and counts down while it waits (not 30 s of silence). */
static void scenario_client_waits(void)
{
	char env[320], text[4096];
	size_t got = 0;
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	pid_t pid;

	snprintf(env, sizeof(env), "XDG_RUNTIME_DIR=%s", runtime);
	if (!CHECK_OK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0))
		return;
	pid = fork();
	if (pid == 0) {
		int slave = open(ptsname(master), O_RDWR);

		if (slave < 0 || dup2(slave, 2) < 0)
			_exit(100);
		putenv(env);
		execl(client, client, "--name", "nobody", "--timeout", "3", (char *)NULL);
		_exit(101);
	}
	/* what it says within its 3 s, read as it comes */
	for (int64_t end = platform_now_ms() + 5000; platform_now_ms() < end && got < sizeof(text) - 1;) {
		struct pollfd pfd = { master, POLLIN, 0 };
		ssize_t n;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((n = read(master, text + got, sizeof(text) - 1 - got)) <= 0)
			break;
		got += (size_t)n;
	}
	text[got] = '\0';
	CHECK(finish(pid) == 3);
	close(master);
	CHECK_MSG(strstr(text, "looking for server \"nobody\" at ") != NULL &&
		  strstr(text, "/cowlab/nobody.sock") != NULL, "%s", text);
	CHECK_MSG(strstr(text, "no server there yet; waiting, 2 s left") != NULL, "%s", text);
}

/* ---- clients short of a resource ---- */

/* A server with one client whose resources are limited: returns the
 * server's exit status, its report in *report. */
static int limited_client(const char *tag, int nofile, long vm_kib, const char *pages,
			  struct run *cl, cJSON **report)
{
	char name[32], env[320];
	const char *sargv[] = { server, "--clients", "1", "--name", name, "--json",
				"--timeout", "20", "--pages-per-client", pages, NULL };
	const char *cargv[] = { client, "--name", name, "--timeout", "20", NULL };
	struct run srv = { .argv = sargv, .env = env };
	pid_t s;
	int code;

	snprintf(name, sizeof(name), "short-%s", tag);
	snprintf(env, sizeof(env), "XDG_RUNTIME_DIR=%s", runtime);
	cl->argv = cargv;
	cl->env = env;
	cl->limit = nofile;
	cl->vm_kib = vm_kib;
	s = start(&srv, name);
	finish(start(cl, tag));
	code = finish(s);
	*report = cJSON_Parse(slurp(srv.out));
	return code;
}

static const cJSON *client_check(const cJSON *report, const char *name)
{
	const cJSON *c, *k;

	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(report, "clients"))
		cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(c, "checks")) {
			const cJSON *n = cJSON_GetObjectItemCaseSensitive(k, "name");

			if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
				return k;
		}
	return NULL;
}

static const char *text_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Too few descriptors: with 4 the client cannot take the section's
 * descriptor and says so (exit 2); with 5 it maps its views but cannot
 * open /proc/self/pagemap, and the run is not proven, its evidence check
 * unproven with the cause, never broken. */
static void scenario_client_short(void)
{
	struct run cl = { 0 };
	cJSON *rep;
	const cJSON *k;
	int code;

	code = limited_client("nofile4", 4, 0, "4", &cl, &rep);
	CHECK_MSG(code == 3, "nofile 4: the server exited %d, not 3", code);
	CHECK_SAYS(cl.err, "Too many open files, EMFILE");
	cJSON_Delete(rep);

	code = limited_client("nofile5", 5, 0, "4", &cl, &rep);
	CHECK_MSG(code == 3, "nofile 5: the server exited %d, not 3 (NOT PROVEN)", code);
	k = client_check(rep, "cow_copy_evidence");
	CHECK_MSG(k != NULL && strcmp(text_of(k, "status"), "unproven") == 0 &&
		  strstr(text_of(k, "detail"), "EMFILE") != NULL,
		  "nofile 5: cow_copy_evidence is %s: %s", text_of(k, "status"),
		  text_of(k, "detail"));
	cJSON_Delete(rep);
}

/* An address space too small for the views (ulimit -v): mapping fails,
 * and the checks that need the views are unproven, naming the map and the
 * lack of memory; the run is NOT PROVEN, never BROKEN. */
static int scenario_client_vm(void)
{
	struct run cl = { 0 };
	cJSON *rep;
	const cJSON *k;
	int code;

#ifdef UNDER_ASAN
	fprintf(stderr, "client-vm: skipped: AddressSanitizer cannot run under ulimit -v\n");
	return 77;
#endif
	code = limited_client("vm", 0, 180000, "16384", &cl, &rep);
	CHECK_MSG(code == 3, "ulimit -v: the server exited %d, not 3 (NOT PROVEN)", code);
	k = client_check(rep, "ro_write_faults");
	CHECK_MSG(k != NULL && strcmp(text_of(k, "status"), "unproven") == 0 &&
		  strstr(text_of(k, "detail"), "map") != NULL &&
		  strstr(text_of(k, "detail"), "ENOMEM") != NULL,
		  "ulimit -v: ro_write_faults is %s: %s", text_of(k, "status"),
		  text_of(k, "detail"));
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(rep, "summary"), "checks_failed")) == 0);
	cJSON_Delete(rep);
	return 0;
}

/* A client the server dropped (here: stopped past --timeout) says why,
 * from the error the server queued, not "cannot send a result". */
static void scenario_dropped(void)
{
	char env[320];
	const char *sargv[] = { server, "--clients", "1", "--name", "drop", "--timeout", "1",
				"--pages-per-client", "16384", NULL };
	const char *cargv[] = { client, "--name", "drop", "--timeout", "20", NULL };
	struct run srv = { .argv = sargv, .env = env }, cl = { .argv = cargv, .env = env };
	pid_t s, c;
	int code;

	snprintf(env, sizeof(env), "XDG_RUNTIME_DIR=%s", runtime);
	s = start(&srv, "drop-server");
	c = start(&cl, "drop-client");
	/* stopped as soon as it has its batch, long past the server's second */
	for (int i = 0; i < 20000 && !says(srv.err, "1 of 1 client connected"); i++)
		platform_sleep_ms(1);
	kill(c, SIGSTOP);
	CHECK(finish(s) == 3);
	kill(c, SIGCONT);
	code = finish(c);
	CHECK_MSG(code == 3, "the dropped client exited %d", code);
	CHECK_SAYS(cl.err, "the server dropped us: no answer to step");
}

/* ---- a memory cgroup smaller than the section ---- */

static bool write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok = f != NULL && fputs(text, f) >= 0;

	if (f != NULL)
		ok = fclose(f) == 0 && ok;
	return ok;
}

/* A memory cgroup of 256 MiB, v1 or v2, whichever this machine lets us
 * make; "" when it lets us make none. */
static void make_cgroup(char *dir, size_t cap, char *procs, size_t pcap)
{
	static const char *const kinds[][2] = {
		{ "/sys/fs/cgroup/memory", "memory.limit_in_bytes" }, /* v1 */
		{ "/sys/fs/cgroup", "memory.max" },                   /* v2 */
	};
	char file[400];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(dir, cap, "%s/cowlab-test-%ld", kinds[i][0], (long)getpid());
		if (mkdir(dir, 0700) != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, kinds[i][1]);
		snprintf(procs, pcap, "%s/cgroup.procs", dir);
		if (write_text(file, "268435456"))
			return;
		rmdir(dir);
	}
	dir[0] = '\0';
}

/* Without the check the fill is killed by the OOM killer, exit 137 and
 * nothing said; with it, exit 2 and the figures. */
static int scenario_memory_cgroup(void)
{
	const char *argv[] = { server, "--clients", "16", "--pages-per-client", "16384", "--name",
			       "cg", "--json", NULL };
	char dir[300], procs[400], pid[32], env[320];
	struct run r = { .argv = argv, .env = env };
	pid_t child;
	int code;
	cJSON *rep;

	make_cgroup(dir, sizeof(dir), procs, sizeof(procs));
	if (dir[0] == '\0') {
		fprintf(stderr, "memory-cgroup: skipped: this machine lets us make no memory "
			"cgroup (needs root and a cgroup file system with the memory controller)\n");
		return 77;
	}
	snprintf(env, sizeof(env), "XDG_RUNTIME_DIR=%s", runtime);
	child = fork();
	if (child == 0) {
		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		if (!write_text(procs, pid))
			_exit(99);
		_exit(finish(start(&r, "cgroup")));
	}
	code = finish(child);
	rmdir(dir);
	CHECK_MSG(code == 2, "a section over the memory cgroup: exit %d, not 2", code);
	snprintf(r.out, sizeof(r.out), "%s/cgroup.out", runtime);
	rep = cJSON_Parse(slurp(r.out));
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(rep, "error");
	CHECK_MSG(cJSON_IsString(e) && strstr(e->valuestring, "a section of 1024 MiB") != NULL &&
		  strstr(e->valuestring, "memory cgroup") != NULL &&
		  strstr(e->valuestring, "limit 256 MiB") != NULL,
		  "the error does not give the figures: %s", cJSON_IsString(e) ? e->valuestring : "");
	cJSON_Delete(rep);
	return 0;
}

/* ---- output closed ---- */

/* `cowlab-server ... | head -1`: the reader of its output goes away. The
 * server ends its run as when asked to stop (SIGPIPE), its clients end,
 * it removes its socket and lock file, and dies of SIGPIPE (it died of it
 * at once, leaving both behind). */
static void scenario_closed_output(void)
{
	const char *const modes[2] = { "builtin", "scenario" };

	for (int m = 0; m < 2; m++) {
		char name[64], sock[400], lock[400], err[300];
		int fds[2], status = -1;
		pid_t pid;

		snprintf(name, sizeof(name), "closed-%d-%ld", m, (long)getpid());
		snprintf(err, sizeof(err), "%s/closed-%d.err", runtime, m);
		if (!CHECK_OK(pipe(fds) == 0))
			return;
		pid = fork();
		if (pid == 0) {
			int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			const char *argv[] = { server, "--spawn", "3", "--name", name, "--client",
					       client, m ? "--scenario" : NULL, "many-writers-many-copies",
					       NULL };

			if (e < 0 || dup2(fds[1], 1) < 0 || dup2(e, 2) < 0)
				_exit(100);
			close(fds[0]);
			close(fds[1]);
			setenv("XDG_RUNTIME_DIR", runtime, 1);
			execv(server, (char *const *)argv);
			_exit(101);
		}
		close(fds[1]);
		close(fds[0]); /* nobody reads: its first line of output is its last */
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE,
			  "%s: not death by SIGPIPE (status 0x%x)", modes[m], status);
		/* a scenario prints as it goes, and is interrupted at once; the
		 * built-in run prints at its end, its run done */
		if (m == 1)
			CHECK_SAYS(err, "interrupted by SIGPIPE");
		snprintf(sock, sizeof(sock), "%s/cowlab/%s.sock", runtime, name);
		snprintf(lock, sizeof(lock), "%s/cowlab/%s.lock", runtime, name);
		CHECK_MSG(access(sock, F_OK) != 0 && access(lock, F_OK) != 0,
			  "%s: its socket or lock file is left behind", modes[m]);
	}
}

int main(int argc, char **argv)
{
	int status = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: test-faults-posix SCENARIO SERVER CLIENT\n");
		return 2;
	}
	server = argv[2];
	client = argv[3];
	if (mkdtemp(runtime) == NULL)
		return 1;
	if (strcmp(argv[1], "names") == 0)
		scenario_names();
	else if (strcmp(argv[1], "runtime-dir") == 0)
		scenario_runtime_dir();
	else if (strcmp(argv[1], "client-setup") == 0)
		scenario_client_setup();
	else if (strcmp(argv[1], "client-waits") == 0)
		scenario_client_waits();
	else if (strcmp(argv[1], "client-short") == 0)
		scenario_client_short();
	else if (strcmp(argv[1], "client-vm") == 0)
		status = scenario_client_vm();
	else if (strcmp(argv[1], "dropped") == 0)
		scenario_dropped();
	else if (strcmp(argv[1], "memory-cgroup") == 0)
		status = scenario_memory_cgroup();
	else if (strcmp(argv[1], "closed-output") == 0)
		scenario_closed_output();
	else
		CHECK_MSG(false, "unknown scenario %s", argv[1]);
	if (fork() == 0) {
		execlp("rm", "rm", "-rf", runtime, (char *)NULL);
		_exit(1);
	}
	wait(NULL);
	return status == 77 ? 77 : check_exit(argv[1]);
}
