/* Starting and reaping client processes. */
#ifndef COWLAB_PROCESS_H
#define COWLAB_PROCESS_H

#include <stdbool.h>

struct process;

/* Starts `path` with argv (argv[0] first, NULL-terminated); stdin is the
 * null device, stderr is inherited, and so is stdout unless stdout_path
 * names a file to write it to (created or truncated). */
int process_start(struct process **out, const char *path, const char *const argv[],
		  const char *stdout_path);
/* The same, with stderr to a file too when stderr_path is not NULL, and,
 * when own_group, in a process group of its own (POSIX setpgid; Windows
 * CREATE_NEW_PROCESS_GROUP): a terminal's Ctrl-C then reaches the caller
 * alone, which ends the process itself. */
int process_start_files(struct process **out, const char *path, const char *const argv[],
			const char *stdout_path, const char *stderr_path, bool own_group);
long process_pid(const struct process *p);
/* Waits up to timeout_ms (-1: forever) for the process to end. Returns 0
 * with *exit_code set (128+signal for a signal), or COWLAB_E_TIMEOUT. */
int process_wait(struct process *p, int timeout_ms, int *exit_code);
/* Ends the process at once (SIGKILL / TerminateProcess). */
void process_kill(struct process *p);
/* Asks it to stop, as `kill` does by default: SIGTERM. Windows has no way
 * to send one process a console event: COWLAB_E_UNSUPPORTED there. */
int process_interrupt(struct process *p);
/* Kills it if still running, reaps it, frees. Accepts NULL. */
void process_destroy(struct process *p);

/* Many copies of one command, started in the background: a thread starts
 * them one after the other (as process_start, stdout inherited) into
 * procs[0..count-1] while the caller goes on, serving those already
 * started. The thread also reaps those that have ended meanwhile (their
 * exit code is kept), so the caller may wait for them, kill or destroy
 * them only once process_starter_end has returned. Each is started in a
 * process group of its own (process_start_files). */
struct process_starter;
int process_starter_begin(struct process_starter **out, const char *path,
			  const char *const argv[], struct process **procs, int count);
/* How many have been started so far (procs[0..n-1] exist). *ended:
 * the starter has stopped, with all started or, if *err is not 0, at the
 * first that could not be. */
int process_starter_progress(struct process_starter *st, bool *ended, int *err);
/* Stops starting more, waits for the thread, frees the starter; returns
 * how many were started. Accepts NULL. */
int process_starter_end(struct process_starter *st);

/* Called first on the starter's thread (backends): on Linux it gives the
 * thread a file descriptor table of its own, so that each start copies the
 * few descriptors the process had when starting began, not the connections
 * it accepts meanwhile (a child's exec walks every one of them). */
void process_starter_thread_init(void);

/* From now on every process this one starts ends when this one ends,
 * however it ends. Windows: they are put in a job object that kills them
 * when its last handle closes (when this process exits or is killed).
 * POSIX has no such thing for processes started from another thread
 * (PR_SET_PDEATHSIG follows the starting thread, which ends first), so it
 * does nothing there: the server ends its clients itself on SIGINT,
 * SIGTERM and SIGHUP (interrupt.h). Returns 0 or a negative cowlab_err. */
int process_bind_children(void);

/* Whether `path` names an executable file. */
bool process_is_executable(const char *path);

#endif
