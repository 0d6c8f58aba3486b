/*
 * nodelay.h - turn off Nagle's algorithm on libmilter's TCP listener.
 *
 * The milter protocol sends small packets that nobody answers at once:
 * several replies in a row at end of message, a macro packet after which
 * the MTA's next process takes the connection.  With Nagle on, each waits
 * for the peer's delayed ACK (40 ms on Linux), about 90 ms per message on
 * an inet: socket.  libmilter offers no handle on its socket, so the
 * listener is found among the process's descriptors; connections it
 * accepts inherit TCP_NODELAY.
 */
#ifndef PH_MILTER_NODELAY_H
#define PH_MILTER_NODELAY_H

/*
 * nodelay_listeners - set TCP_NODELAY on every listening TCP socket of
 * this process.  Returns how many, or -1 (errno set) when the descriptors
 * cannot be listed.
 */
int nodelay_listeners(void);

#endif
