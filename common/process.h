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
long process_pid(const struct process *p);
/* Waits up to timeout_ms (-1: forever) for the process to end. Returns 0
 * with *exit_code set (128+signal for a signal), or COWLAB_E_TIMEOUT. */
int process_wait(struct process *p, int timeout_ms, int *exit_code);
/* Ends the process at once (SIGKILL / TerminateProcess). */
void process_kill(struct process *p);
/* Kills it if still running, reaps it, frees. Accepts NULL. */
void process_destroy(struct process *p);

/* Whether `path` names an executable file. */
bool process_is_executable(const char *path);

#endif
