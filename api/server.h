/*
 * server.h - posthook-api's HTTP side: libmicrohttpd daemons, one per
 * listening address, each with its own thread pool, feeding api_dispatch.
 */
#ifndef PH_SERVER_H
#define PH_SERVER_H

#include "api.h"

struct server;

/* server_new - a server for a; nothing is opened yet. */
struct server *server_new(struct api *a);
/*
 * server_new_with - a server whose requests go to dispatch (the tracking
 * server's track_dispatch) instead of api_dispatch; what = the config key
 * of its addresses, for messages.
 */
struct server *server_new_with(struct api *a, api_dispatch_fn dispatch, const char *what);
void server_free(struct server *s);

/*
 * server_check_listen - 0 when every api_listen entry is HOST:PORT or
 * [IPv6]:PORT with a numeric address; else -1 and why in err.  Pure.
 */
int server_check_listen(char *const *addrs, char *err, size_t errlen);

/* server_bind - open the listening sockets (before dropping privileges). */
int server_bind(struct server *s, char *const *addrs);

/* server_load_tls - read the certificate and key, when configured. */
int server_load_tls(struct server *s, const char *cert, const char *key);

/* server_start - serve on every socket. */
int server_start(struct server *s);

/*
 * server_reload - read the TLS files again and serve with them: new
 * daemons take over the sockets, the old ones finish what they were
 * answering.  On an error the old daemons keep serving.
 */
int server_reload(struct server *s, const char *cert, const char *key);

#endif
