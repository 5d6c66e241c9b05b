/* What the POSIX backend's modules share with one another, and nothing
 * outside common/posix/ sees. */
#ifndef COWLAB_POSIX_INTERNAL_H
#define COWLAB_POSIX_INTERNAL_H

struct channel;
struct section;

/* The memfd of a section, to pass with SCM_RIGHTS. */
int section_fd(const struct section *s);
/* Takes the descriptor that came with the last message received on c
 * (-1 if none); the caller owns it. */
int channel_take_fd(struct channel *c);

#endif
