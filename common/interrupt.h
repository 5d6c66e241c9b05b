/* Being asked to stop: Ctrl-C (SIGINT), SIGTERM and SIGHUP on POSIX;
 * Ctrl-C, Ctrl-Break and the console closing on Windows. Once caught, the
 * first request is noted instead of ending the process at once, so that
 * the server can end its run cleanly (its clients ended, the report so
 * far, its name given back) and then end as the request would have. */
#ifndef COWLAB_INTERRUPT_H
#define COWLAB_INTERRUPT_H

#include <stdbool.h>
#include <stddef.h>


/* Starts catching. A blocking wait of the channel hub returns early when a
 * request arrives (POSIX: the signal interrupts it), though one that
 * arrives just before the wait is noticed only when the wait ends: a
 * caller waits in slices. Returns 0 or a negative cowlab_err. */
int interrupt_catch(void);
/* 0, or the request that came first: a signal number on POSIX, a console
 * control event + 1 on Windows. Safe to call from any thread. */
int interrupt_pending(void);
/* Its name for people and the report: "SIGINT", "Ctrl-C", ... */
const char *interrupt_name(int request);
/* Ends the process as the request would have without cowlab's handler:
 * POSIX restores the signal's default action and raises it again (a shell
 * sees 128 + the signal's number); Windows exits with
 * STATUS_CONTROL_C_EXIT. */
_Noreturn void interrupt_exit(int request);

/* --step: what lets a paused run go on, besides --step-ms. SIGUSR1 on
 * POSIX; on Windows a named event, "Local\cowlab-step-NAME" (NAME the
 * run's --name), which a harness sets. Returns 0 or a negative cowlab_err. */
int step_signal_open(const char *name);
void step_signal_close(void);
/* Whether it came since the last call; takes it. */
bool step_signal_take(void);
/* Whether Enter was pressed at the terminal that is stdin since the last
 * call (the line is read); false when stdin is not a terminal. */
bool step_enter_take(void);
/* Sends it to the server of that --name and pid (tests, harnesses).
 * Returns 0 or a negative cowlab_err. */
int step_signal_send(const char *name, long pid);
/* How a person sends it: "kill -USR1 1234", "SetEvent(\"Local\cowlab-step-x\")" */
void step_signal_how(const char *name, long pid, char *buf, size_t cap);

#endif
