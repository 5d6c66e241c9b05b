/* The floor for session_ratio: the least a client doing cowlab's experiment
 * must do, with none of cowlab's own code. It touches the same pages of
 * the section as a cowlab-client, in the same order, and makes the
 * experiment's system calls (a client's, less its waits with poll, its
 * checks of the section's seals and size, and its repeated getpid):
 *
 *   the image facts (one PROCMAP_QUERY of /proc/self/maps), connect, a
 *   hello of about a client's size; the assignment with the section's
 *   descriptor and the write step's batch, each parsed by cJSON; three
 *   views (shared, private, read-only); pagemap, PAGEMAP_SCAN and smaps
 *   before and after the writes; the writes, the reads and one fault probe
 *   (SIGSEGV caught with sigsetjmp); a result of a client's size; the
 *   observe step's batch, its reads and finds over the neighbours' pages,
 *   the evidence again, a second result; exit.
 *
 * It checks nothing (but that smaps has the line it reads), validates
 * nothing beyond what cJSON does, writes its results with snprintf and
 * keeps no state. cowlab-bench serves it (floor_serve).
 *
 *   floor-peer SOCKET-PATH */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "linux-uapi.h" /* declarations of newer kernels' interfaces only */

#define PS 4096
#define MSG_MAX 65536

static int counter = 1; /* the image's private data, as a client's counter */
static int sock = -1, pagemap = -1, smaps = -1;
static uint8_t *rw, *cow, *ro;
static size_t size;
static uint64_t first;
static char buf[MSG_MAX];
static sigjmp_buf probe_jmp;

/* One message; its descriptor, if it carries one, into *fd. */
static cJSON *receive(int *fd)
{
	union { struct cmsghdr align; char b[CMSG_SPACE(sizeof(int))]; } ctl;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

	if (n <= 0)
		exit(4);
	buf[n] = '\0';
	if (fd != NULL) {
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
			exit(5);
		memcpy(fd, CMSG_DATA(cm), sizeof(*fd));
	}
	return cJSON_ParseWithLength(buf, (size_t)n);
}

static uint64_t number(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
}

/* Reads every op's fields, as a client does before it runs them. */
static uint64_t read_ops(const cJSON *run)
{
	const cJSON *op;
	uint64_t sum = 0;

	cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(run, "ops")) {
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "op"));
		const char *view = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "view"));

		sum += (kind ? strlen(kind) : 0) + (view ? strlen(view) : 0);
		sum += number(op, "first") + number(op, "count") + number(op, "step") +
		       number(op, "offset") + number(op, "xor");
	}
	return sum;
}

static void evidence(void)
{
	uint64_t ent[4];
	struct page_region vec[64];
	struct pm_scan_arg arg = { .size = sizeof(arg) };
	uintptr_t start = (uintptr_t)cow + first * PS;
	char text[1025];

	if (pagemap < 0)
		pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pread(pagemap, ent, sizeof(ent), (off_t)(start / PS * 8)) != sizeof(ent))
		exit(6);
	arg.start = start;
	arg.end = start + 4 * PS;
	arg.vec = (uintptr_t)vec;
	arg.vec_len = 64;
	arg.category_mask = PAGE_IS_PRESENT | PAGE_IS_FILE;
	arg.category_inverted = PAGE_IS_FILE;
	arg.return_mask = PAGE_IS_PRESENT | PAGE_IS_FILE;
	ioctl(pagemap, PAGEMAP_SCAN, &arg);
	if (smaps < 0)
		smaps = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
	ssize_t n = pread(smaps, text, 1024, 0);
	text[n > 0 ? n : 0] = '\0';
	if (strstr(text, "Anonymous:") == NULL)
		exit(7);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)si, (void)uc;
	siglongjmp(probe_jmp, 1);
}

static void probe(volatile uint32_t *w)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(probe_jmp, 0) == 0)
		*w = 1;
	sigaction(SIGBUS, &dfl, NULL);
	sigaction(SIGSEGV, &dfl, NULL);
}

static volatile uint32_t *word(uint8_t *view, uint64_t page, size_t offset)
{
	return (volatile uint32_t *)(void *)(view + page * PS + offset);
}

/* A result of about `len` bytes: one entry an op, numbers in each. */
static void send_result(int seq, int nops, size_t len, uint64_t sum)
{
	static char text[4096];
	size_t at = (size_t)snprintf(text, sizeof(text), "{\"type\":\"result\",\"v\":1,\"seq\":%d,"
				     "\"results\":[", seq);

	for (int i = 0; i < nops && at < len; i++)
		at += (size_t)snprintf(text + at, sizeof(text) - at,
				       "%s{\"op\":\"expect\",\"ok\":true,\"matched\":%d,"
				       "\"mismatched\":0,\"samples\":[{\"page\":%llu,\"value\":%llu}]}",
				       i ? "," : "", i, (unsigned long long)first,
				       (unsigned long long)sum);
	while (at < len - 2)
		text[at++] = ' ';
	text[at++] = ']';
	text[at++] = '}';
	if (send(sock, text, at, MSG_NOSIGNAL) != (ssize_t)at)
		exit(8);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec pause = { 0, 5000000 };
	char line[512] = "", hello[512];
	struct cowlab_procmap_query q = { .size = sizeof(q), .query_addr = (uintptr_t)&counter,
				   .vma_name_addr = (uintptr_t)line, .vma_name_size = 256 };
	uint64_t sum;
	cJSON *msg;
	int fd, section = -1;

	if (argc < 2)
		return 2;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ioctl(fd, COWLAB_PROCMAP_QUERY, &q);
	close(fd);
	for (char *c = line; *c != '\0'; c++) /* a JSON string, as a client escapes it */
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			*c = '?';
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	for (int i = 0; connect(sock, (struct sockaddr *)&sa, sizeof(sa)) != 0; i++) {
		if (i > 2000)
			return 3;
		nanosleep(&pause, NULL);
	}
	int n = snprintf(hello, sizeof(hello), "{\"type\":\"hello\",\"v\":1,\"pid\":%ld,\"version\":"
			 "\"0.1.0\",\"verdict\":false,\"image\":{\"format\":\"elf\",\"private\":%d,"
			 "\"shared\":1,\"section\":null,\"data_mapping\":\"%llx-%llx rw-p %s\"}}",
			 (long)getpid(), counter, (unsigned long long)q.vma_start,
			 (unsigned long long)q.vma_end, line);
	if (send(sock, hello, (size_t)n, MSG_NOSIGNAL) != n)
		return 4;

	msg = receive(&section);
	size = number(cJSON_GetObjectItemCaseSensitive(msg, "section"), "size");
	first = number(cJSON_GetObjectItemCaseSensitive(msg, "pages"), "first");
	cJSON_Delete(msg);
	if (size == 0 || first == 0)
		return 5;

	/* the write step */
	msg = receive(NULL);
	sum = read_ops(msg);
	cJSON_Delete(msg);
	/* the cow view low, where smaps lists it first, as a client places it */
	uint32_t r = 0;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = 0;
	void *low = (void *)(uintptr_t)((UINT64_C(4) << 30) + (uint64_t)(r & 0xffffff) * 4096);
	rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, section, 0);
	cow = mmap(low, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED_NOREPLACE, section, 0);
	if (cow == MAP_FAILED) /* taken: the kernel's place, as section_map falls back */
		cow = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, section, 0);
	ro = mmap(NULL, size, PROT_READ, MAP_SHARED, section, 0);
	if (rw == MAP_FAILED || cow == MAP_FAILED || ro == MAP_FAILED)
		return 6;
	evidence();
	*word(cow, first, 0) = 1; /* the cow page; the rw page */
	*word(rw, first + 2, 0) = 2;
	sum += *word(cow, first, 0) + *word(rw, first, 0);
	probe(word(ro, first + 3, 0));
	sum += *word(ro, first + 3, 0);
	evidence();
	send_result(0, 11, 1272, sum);

	/* the observe step: its own pages, the neighbours' (8 pages on each
	 * side), the section's first page */
	msg = receive(NULL);
	sum = read_ops(msg);
	cJSON_Delete(msg);
	sum += *word(cow, first + 1, 64) + *word(cow, first + 2, 0) + *word(cow, first, 64);
	uint64_t lo = first > 8 ? first - 8 : 0, hi = first + 12 < size / PS ? first + 12 : size / PS;
	for (uint64_t p = lo; p < hi; p++)
		sum += *word(cow, p, 0) + *word(rw, p, 0);
	sum += *word(cow, 0, 0);
	evidence();
	send_result(1, 9, 889, sum);
	return 0;
}
