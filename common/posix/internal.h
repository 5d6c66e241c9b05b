/* What the POSIX backend's modules share with one another, and nothing
 * outside common/posix/ sees. */
#ifndef COWLAB_POSIX_INTERNAL_H
#define COWLAB_POSIX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct channel;
struct section;

/* The memfd of a section, to pass with SCM_RIGHTS. */
int section_fd(const struct section *s);
/* Takes the descriptor that came with the last message received on c; the
 * caller owns it. Otherwise a negative cowlab_err: COWLAB_E_PROTO when
 * none was sent, COWLAB_E_NOMEM with EMFILE when one was sent but this
 * process could not take it (the kernel cut it off: MSG_CTRUNC). */
int channel_take_fd(struct channel *c);

/* A /proc/self/maps line as one clean line of text: without its newline,
 * runs of spaces (the padding before the path) as one, and, when it does
 * not fit in cap, cut at a UTF-8 character boundary and ended with "...".
 * A path may hold any bytes but the report must stay valid UTF-8 JSON. */
void posix_maps_line(char *dst, size_t cap, const char *line);

/* Room for a /proc/self/maps line: a range, flags and a PATH_MAX path
 * (longer only when the kernel escapes the path's bytes: see below). */
#define POSIX_MAPS_LINE_MAX 4352

/* Reads a /proc file of lines (maps, smaps) from its start with pread, 1 KiB
 * at a time: the kernel formats records only until a read is served, so
 * what comes early in the file costs little. Calls found(line, ctx) for
 * each whole line, its newline cut off, until it returns true; of a line
 * longer than its buffer (POSIX_MAPS_LINE_MAX + 1 KiB: a path of bytes the
 * kernel escapes, "\n" as "\012"), only the start. Returns 1 when found
 * said so, 0 at the end of the file, or a negative cowlab_err. */
int posix_proc_scan(int fd, bool (*found)(char *line, void *ctx), void *ctx);

/* The /proc/self/maps line whose range holds addr, into line
 * (POSIX_MAPS_LINE_MAX bytes): posix_maps_query's where it answers, else
 * posix_maps_scan's. Returns 0, COWLAB_E_NOENT when no mapping holds it
 * (the address is free), or another negative cowlab_err when the file
 * cannot be read. */
int posix_maps_find(uintptr_t addr, char *line);
/* The line as read from the file: the kernel writes every line before it. */
int posix_maps_scan(uintptr_t addr, char *line);
/* For a file's mapping, on a kernel with PROCMAP_QUERY (6.11: an ioctl on
 * /proc/self/maps that answers for one mapping), the line written from the
 * ioctl's answer as the kernel writes it in the file (show_map_vma: range,
 * flags, offset, device, inode, the path with each newline as \012), but
 * one space before the path where the file pads to a column, and cut where
 * the scan cuts a long line. False for any other mapping, a free address or
 * an older kernel. test-posix holds it to the scan's line. */
bool posix_maps_query(uintptr_t addr, char *line);

/* platform_memory_room's work, with every file read under `root` ("" for
 * this system; a test's fake tree otherwise): /proc/meminfo,
 * /proc/self/cgroup and the cgroup directories under /sys/fs/cgroup. */
int posix_memory_room(const char *root, uint64_t *room, char *how, size_t cap);

#endif
