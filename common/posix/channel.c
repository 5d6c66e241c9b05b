/* Channels over AF_UNIX SOCK_SEQPACKET sockets: record boundaries are kept
 * by the kernel, a message over the cap is cut (MSG_TRUNC) and the next one
 * stays whole, and a descriptor travels with a message (SCM_RIGHTS). The
 * hub is one epoll set. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "channel.h"
#include "err.h"
#include "internal.h"
#include "platform.h"
#include "section.h"

#define READY_MAX 64

/* A socket path's room (sun_path), for buffers of that size. */
typedef char sa_path_type[sizeof(((struct sockaddr_un *)0)->sun_path)];

struct channel {
	int fd;
	int pending_fd;            /* a descriptor that came with a message */
	bool fd_lost;              /* one came but could not be taken (MSG_CTRUNC) */
	struct channel_hub *hub;   /* NULL for a connected (client) channel */
	struct channel *prev, *next;
	void *data;
};

struct channel_hub {
	int lfd;
	int epfd;
	int lockfd;                /* flock on NAME.lock: the name is ours */
	char lockpath[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	int spare;                 /* a descriptor to give up when out of them */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct channel *conns;
	struct epoll_event ready[READY_MAX];
	int nready, next_ready;
	uint8_t buf[CHANNEL_MSG_MAX + 1];
};

/* Whether a directory is one another user cannot rename entries in: ours
 * or root's, and writable by nobody else unless sticky (as /tmp is). */
static bool dir_safe_parent(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return false;
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return false;
	return (st.st_mode & 022) == 0 || (st.st_mode & S_ISVTX) != 0;
}

/* Where the sockets live: $XDG_RUNTIME_DIR/cowlab when XDG_RUNTIME_DIR is
 * an absolute path to a directory no other user can rename entries in,
 * else /tmp/cowlab-UID (said on stderr when XDG_RUNTIME_DIR is refused). */
static int choose_dir(char *dir, size_t cap, char *why, size_t wcap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (xdg != NULL && xdg[0] == '/' && !dir_safe_parent(xdg)) {
		fprintf(stderr, "cowlab: not using XDG_RUNTIME_DIR (%s): it is not a directory "
			"of this user's (or root's) that others cannot write to; using "
			"/tmp/cowlab-%lu instead\n", xdg, (unsigned long)geteuid());
		xdg = NULL;
	}
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(dir, cap, "%s/cowlab", xdg);
	else
		n = snprintf(dir, cap, "/tmp/cowlab-%lu", (unsigned long)geteuid());
	if (n < 0 || (size_t)n >= cap) {
		snprintf(why, wcap, "XDG_RUNTIME_DIR is too long (%zu bytes) for a socket path in "
			 "it (at most %zu bytes in all): point it at a shorter directory, or unset "
			 "it", strlen(xdg), cap - 1);
		return COWLAB_E_NAMETOOLONG;
	}
	if (xdg == NULL && !dir_safe_parent("/tmp")) {
		snprintf(why, wcap, "/tmp is open to other users without the sticky bit: no "
			 "safe place for the socket (set XDG_RUNTIME_DIR to a private directory)");
		return COWLAB_E_ACCESS;
	}
	return COWLAB_OK;
}

/* The directory, created 0700 if missing (server); refused if it is a
 * symlink, not ours, or open to others. */
static int check_dir(const char *dir, bool create, char *why, size_t wcap)
{
	struct stat st;
	int err;

	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		err = err_from_os();
		snprintf(why, wcap, "cannot create %s: %s", dir, cowlab_strerror(err));
		return err;
	}
	if (lstat(dir, &st) != 0) {
		err = err_from_os();
		snprintf(why, wcap, "%s: %s", dir, cowlab_strerror(err));
		return err;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		snprintf(why, wcap, "%s is not a private directory of this user (it must be a "
			 "real directory, owned by uid %lu, mode 0700)", dir,
			 (unsigned long)geteuid());
		return COWLAB_E_ACCESS;
	}
	return COWLAB_OK;
}

static int socket_path(struct sockaddr_un *sa, const char *dir, const char *name, char *why,
		       size_t wcap)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s.sock", dir, name);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path)) {
		snprintf(why, wcap, "the socket path %s/%s.sock is %d bytes, over the %zu a "
			 "socket path may have: use a shorter name, or point XDG_RUNTIME_DIR at "
			 "a shorter directory", dir, name, n, sizeof(sa->sun_path) - 1);
		return COWLAB_E_NAMETOOLONG;
	}
	return COWLAB_OK;
}

/* Whether a server answers on the socket at sa. */
static bool socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return true; /* cannot tell: do not take it over */
	alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
		(errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return alive;
}

/* Owns the name: an exclusive flock on NAME.lock beside the socket, held
 * for the hub's life and dropped by the kernel when the server dies. Two
 * servers starting at once cannot both take it. The hub removes the file as
 * it ends, still holding the lock (channel_hub_destroy), so that names used
 * once (--spawn's) leave nothing behind; a server that opened the file just
 * before that and locked it just after holds a file that is no longer the
 * name's, sees so, and starts over. */
static int lock_name(struct channel_hub *hub, const struct sockaddr_un *sa, char *why,
		     size_t wcap)
{
	snprintf(hub->lockpath, sizeof(hub->lockpath), "%.*s.lock",
		 (int)(strlen(sa->sun_path) - 5), sa->sun_path);
	for (int tries = 0; tries < 100; tries++) {
		struct stat held, named;
		int err;

		hub->lockfd = open(hub->lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (hub->lockfd < 0) {
			err = err_from_os();
			snprintf(why, wcap, "cannot open the lock file %s%s: %s", hub->lockpath,
				 err_os_number(err) == ELOOP ? " (a symbolic link)" : "",
				 cowlab_strerror(err));
			return err;
		}
		if (flock(hub->lockfd, LOCK_EX | LOCK_NB) != 0) {
			err = errno == EWOULDBLOCK ? COWLAB_E_EXISTS : err_from_os();
			if (!err_is(err, COWLAB_E_EXISTS))
				snprintf(why, wcap, "cannot lock %s: %s", hub->lockpath,
					 cowlab_strerror(err));
			close(hub->lockfd);
			hub->lockfd = -1; /* not ours: not removed either */
			return err;
		}
		if (fstat(hub->lockfd, &held) != 0) {
			err = err_from_os();
			snprintf(why, wcap, "%s: %s", hub->lockpath, cowlab_strerror(err));
			return err;
		}
		if (lstat(hub->lockpath, &named) == 0 && named.st_dev == held.st_dev &&
		    named.st_ino == held.st_ino)
			return COWLAB_OK;
		close(hub->lockfd); /* removed, or replaced, under us */
		hub->lockfd = -1;
	}
	return COWLAB_E_EXISTS;
}

static int bind_unique(int fd, const struct sockaddr_un *sa, char *why, size_t wcap)
{
	struct stat st;
	int err;

	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return COWLAB_OK;
	if (errno != EADDRINUSE)
		goto error_os;
	/* We hold the name's lock, so a server that answers here is one that
	 * predates the lock; anything else is a stale socket of a dead one. */
	if (socket_alive(sa))
		return COWLAB_E_EXISTS;
	/* only a socket is ours to take over: anything else there stays */
	if (lstat(sa->sun_path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(why, wcap, "%s is in the way: it is not a socket (remove it if it is "
			 "not needed)", sa->sun_path);
		return COWLAB_E_EXISTS;
	}
	if (unlink(sa->sun_path) != 0 && errno != ENOENT)
		goto error_os;
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return COWLAB_OK;
	if (errno == EADDRINUSE)
		return COWLAB_E_EXISTS;
error_os:
	err = err_from_os();
	snprintf(why, wcap, "cannot create the socket %s: %s", sa->sun_path,
		 cowlab_strerror(err));
	return err;
}

int channel_hub_listen(struct channel_hub **out, const char *name, char *why, size_t wcap)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char dir[sizeof(sa_path_type)];
	struct sockaddr_un sa;
	struct channel_hub *hub;
	int err;

	why[0] = '\0';
	if (!channel_name_valid(name))
		return COWLAB_E_INVAL;
	if ((err = choose_dir(dir, sizeof(dir), why, wcap)) != 0 ||
	    (err = check_dir(dir, true, why, wcap)) != 0 ||
	    (err = socket_path(&sa, dir, name, why, wcap)) != 0)
		return err;
	hub = calloc(1, sizeof(*hub));
	if (hub == NULL)
		return COWLAB_E_NOMEM;
	hub->lfd = hub->lockfd = hub->epfd = -1;
	hub->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((err = lock_name(hub, &sa, why, wcap)) != 0)
		goto error;
	hub->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (hub->lfd < 0)
		goto error_os;
	if ((err = bind_unique(hub->lfd, &sa, why, wcap)) != 0)
		goto error;
	memcpy(hub->path, sa.sun_path, sizeof(hub->path));
	if (chmod(hub->path, 0600) != 0 || listen(hub->lfd, SOMAXCONN) != 0)
		goto error_os;
	hub->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (hub->epfd < 0)
		goto error_os;
	ev.data.ptr = NULL; /* NULL marks the listening socket */
	if (epoll_ctl(hub->epfd, EPOLL_CTL_ADD, hub->lfd, &ev) != 0)
		goto error_os;
	*out = hub;
	return COWLAB_OK;

error_os:
	err = err_from_os();
	snprintf(why, wcap, "cannot listen on %s: %s", sa.sun_path, cowlab_strerror(err));
error:
	channel_hub_destroy(hub);
	return err;
}

void channel_hub_destroy(struct channel_hub *hub)
{
	if (hub == NULL)
		return;
	while (hub->conns != NULL)
		channel_close(hub->conns);
	if (hub->path[0] != '\0')
		unlink(hub->path);
	if (hub->lfd >= 0)
		close(hub->lfd);
	if (hub->epfd >= 0)
		close(hub->epfd);
	if (hub->lockfd >= 0) {
		unlink(hub->lockpath); /* while the lock is still ours (lock_name) */
		close(hub->lockfd);
	}
	if (hub->spare >= 0)
		close(hub->spare);
	free(hub);
}

const char *channel_hub_path(const struct channel_hub *hub)
{
	return hub->path;
}

static struct channel *channel_new(int fd, struct channel_hub *hub)
{
	struct channel *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->pending_fd = -1;
	c->hub = hub;
	if (hub != NULL) {
		c->next = hub->conns;
		if (hub->conns != NULL)
			hub->conns->prev = c;
		hub->conns = c;
	}
	return c;
}

/* Out of descriptors: give up the spare one to take the connection off
 * the queue and close it, so the listener does not stay readable forever
 * (a busy loop) and the server can say what happened. */
static bool hub_refuse(struct channel_hub *hub, struct channel_event *ev)
{
	int fd;

	if (hub->spare < 0)
		return false;
	close(hub->spare);
	fd = accept4(hub->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	hub->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ev->type = CHANNEL_EVENT_REFUSED;
	ev->err = COWLAB_E_NOMEM;
	return true;
}

static bool hub_accept(struct channel_hub *hub, struct channel_event *ev)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP };
	struct channel *c;
	int fd = accept4(hub->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0 && (errno == EMFILE || errno == ENFILE))
		return hub_refuse(hub, ev);
	if (fd < 0)
		return false; /* EAGAIN, or a connection that died at once */
	c = channel_new(fd, hub);
	if (c == NULL) {
		close(fd);
		return false;
	}
	e.data.ptr = c;
	if (epoll_ctl(hub->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
		channel_close(c);
		return false;
	}
	ev->type = CHANNEL_EVENT_ACCEPT;
	ev->chan = c;
	return true;
}

static void hub_read(struct channel_hub *hub, struct channel *c, uint32_t events,
		     struct channel_event *ev)
{
	ssize_t n = recv(c->fd, hub->buf, sizeof(hub->buf), MSG_DONTWAIT | MSG_TRUNC);

	ev->chan = c;
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		ev->type = CHANNEL_EVENT_TIMEOUT; /* spurious: caller loops */
		return;
	}
	/* recv says 0 both for an empty message and for the end: only a hang-up
	 * tells them apart. */
	if (n == 0 && !(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		ev->type = CHANNEL_EVENT_MESSAGE;
		ev->data = hub->buf;
		ev->len = 0;
		return;
	}
	if (n <= 0) {
		ev->type = CHANNEL_EVENT_CLOSED;
		ev->err = n == 0 ? COWLAB_E_CLOSED : err_from_os();
		epoll_ctl(hub->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		return;
	}
	ev->type = CHANNEL_EVENT_MESSAGE;
	ev->data = hub->buf;
	ev->len = (size_t)n;
	if ((size_t)n > CHANNEL_MSG_MAX) {
		ev->err = COWLAB_E_TOOBIG;
		ev->data = NULL;
	}
}

int channel_hub_wait(struct channel_hub *hub, int timeout_ms, struct channel_event *ev)
{
	int64_t deadline = timeout_ms < 0 ? -1 : platform_now_ms() + timeout_ms;

	for (;;) {
		memset(ev, 0, sizeof(*ev));
		while (hub->next_ready < hub->nready) {
			struct epoll_event *e = &hub->ready[hub->next_ready++];

			if (e->data.ptr == NULL) {
				if (e->events == 0)
					continue; /* its channel was closed meanwhile */
				if (hub_accept(hub, ev)) {
					hub->next_ready--; /* more may be waiting */
					return COWLAB_OK;
				}
				continue;
			}
			hub_read(hub, e->data.ptr, e->events, ev);
			if (ev->type != CHANNEL_EVENT_TIMEOUT)
				return COWLAB_OK;
		}
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - platform_now_ms();
			wait = left > 0 ? (int)left : 0;
		}
		int n = epoll_wait(hub->epfd, hub->ready, READY_MAX, wait);
		if (n < 0 && errno == EINTR) {
			/* a signal (interrupt.h): the caller looks, then waits again */
			ev->type = CHANNEL_EVENT_TIMEOUT;
			return COWLAB_OK;
		}
		if (n < 0)
			return err_from_os();
		hub->nready = n > 0 ? n : 0;
		hub->next_ready = 0;
		if (n == 0 && wait >= 0 && platform_now_ms() >= deadline) {
			ev->type = CHANNEL_EVENT_TIMEOUT;
			return COWLAB_OK;
		}
	}
}

int channel_path(const char *name, char *buf, size_t cap)
{
	char dir[sizeof(sa_path_type)], why[256];
	struct sockaddr_un sa;
	int err;

	if (!channel_name_valid(name))
		return COWLAB_E_INVAL;
	if ((err = choose_dir(dir, sizeof(dir), why, sizeof(why))) != 0 ||
	    (err = socket_path(&sa, dir, name, why, sizeof(why))) != 0)
		return err;
	snprintf(buf, cap, "%s", sa.sun_path);
	return COWLAB_OK;
}

int channel_connect(struct channel **out, const char *name, int timeout_ms, char *why,
		    size_t wcap)
{
	int64_t deadline = platform_now_ms() + timeout_ms;
	char dir[sizeof(sa_path_type)];
	struct sockaddr_un sa;
	int fd, err;

	why[0] = '\0';
	if (!channel_name_valid(name))
		return COWLAB_E_INVAL;
	if ((err = choose_dir(dir, sizeof(dir), why, wcap)) != 0 ||
	    (err = socket_path(&sa, dir, name, why, wcap)) != 0)
		return err;
	for (;;) {
		/* the server creates the directory: until then, not there yet */
		err = check_dir(dir, false, why, wcap);
		if (err == 0) {
			fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
			if (fd < 0)
				return err_from_os();
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
				*out = channel_new(fd, NULL);
				if (*out == NULL) {
					close(fd);
					return COWLAB_E_NOMEM;
				}
				return COWLAB_OK;
			}
			err = err_from_os();
			close(fd);
			snprintf(why, wcap, "cannot connect to %s: %s", sa.sun_path,
				 cowlab_strerror(err));
		}
		/* Not there yet (or its backlog is full): wait for it. */
		if ((!err_is(err, COWLAB_E_NOENT) && !err_is(err, COWLAB_E_AGAIN)) ||
		    platform_now_ms() >= deadline)
			return err;
		platform_sleep_ms(20);
	}
}

static void keep_fds(struct channel *c, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)(void *)CMSG_DATA(cm);
		for (size_t i = 0; i < n; i++) {
			/* Keep the first; a peer sending more gets them closed. */
			if (c->pending_fd < 0 && i == 0)
				c->pending_fd = fds[i];
			else
				close(fds[i]);
		}
	}
}

int channel_recv(struct channel *c, void *buf, size_t cap, size_t *len, int timeout_ms)
{
	union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int) * 4)]; } ctl;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return err_from_os();
	if (r == 0)
		return COWLAB_E_TIMEOUT;
	n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return err_from_os();
	keep_fds(c, &mh);
	/* a descriptor sent that this process had no room for */
	c->fd_lost = (mh.msg_flags & MSG_CTRUNC) != 0;
	if (n == 0)
		return COWLAB_E_CLOSED;
	if (mh.msg_flags & MSG_TRUNC)
		return COWLAB_E_TOOBIG;
	*len = (size_t)n;
	return COWLAB_OK;
}

int channel_send(struct channel *c, const void *buf, size_t len,
		 const struct section *attach)
{
	union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int flags = MSG_NOSIGNAL | (c->hub != NULL ? MSG_DONTWAIT : 0);

	if (len > CHANNEL_MSG_MAX)
		return COWLAB_E_TOOBIG;
	if (attach != NULL) {
		int fd = section_fd(attach);

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	if (sendmsg(c->fd, &mh, flags) != (ssize_t)len)
		return err_from_os();
	return COWLAB_OK;
}

int channel_send_uncapped(struct channel *c, const void *buf, size_t len)
{
	if (send(c->fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		return err_from_os();
	return COWLAB_OK;
}

int channel_peer(struct channel *c, struct channel_peer *peer)
{
	struct ucred cred;
	socklen_t n = sizeof(cred);

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) != 0)
		return err_from_os();
	peer->pid = (long)cred.pid;
	peer->same_user = cred.uid == geteuid();
	return COWLAB_OK;
}

int channel_take_fd(struct channel *c)
{
	int fd = c->pending_fd;

	c->pending_fd = -1;
	if (fd >= 0)
		return fd;
	return c->fd_lost ? err_with_os(COWLAB_E_NOMEM, EMFILE) : COWLAB_E_PROTO;
}

void channel_set_data(struct channel *c, void *data)
{
	c->data = data;
}

void *channel_data(const struct channel *c)
{
	return c->data;
}

void channel_close(struct channel *c)
{
	struct channel_hub *hub;

	if (c == NULL)
		return;
	hub = c->hub;
	if (hub != NULL) {
		/* Forget events already fetched for it. */
		for (int i = hub->next_ready; i < hub->nready; i++)
			if (hub->ready[i].data.ptr == c)
				hub->ready[i].events = 0, hub->ready[i].data.ptr = NULL;
		epoll_ctl(hub->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		if (c->prev != NULL)
			c->prev->next = c->next;
		else
			hub->conns = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
	}
	if (c->pending_fd >= 0)
		close(c->pending_fd);
	close(c->fd);
	free(c);
}
