/* server.h: `oilcast serve` as a library: start an HTTP server (libmicrohttpd, internal thread pool over
 * epoll) on a data directory, learn its port, and stop it gracefully (stop accepting, let in-flight
 * requests finish, then close). Signal handling belongs to the caller (the CLI). */
#ifndef OC_SERVE_SERVER_H
#define OC_SERVE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "serve/http.h"

typedef struct oc_serve_config {
  const char *data_dir;
  const char *listen;          /* "127.0.0.1:8080"; port 0 picks a free port */
  unsigned threads;            /* thread-pool size */
  size_t max_body_bytes;       /* larger request bodies get 413 */
  unsigned connection_timeout; /* seconds of inactivity before a connection is closed */
  unsigned max_connections;    /* served normally; at the limit a new connection evicts the one that has
                                  waited longest for its header or body, and a reserve of an eighth more
                                  (oc_admission_default_reserve) answers only health checks and
                                  authenticated requests */
  unsigned max_connections_per_client; /* connections one IP address may hold */
  double header_timeout;       /* seconds from accept (or the previous response) to a complete header */
  double body_timeout;         /* seconds from a complete header to a complete body */
  const char *web_dir;    /* dashboard sources served at / and /static/ */
  const char *vendor_dir; /* plotly.js-dist-min package directory, served at /vendor/ */
  bool public_read;       /* read routes need no key */
  const char *operations_access; /* "loopback" (default), "any" or "key": who may call health/ready/metrics without a key */
  int access_log_fd;      /* one JSON line per request; -1 disables */
  double key_reload_interval; /* longest a key table serves unread: a safety net for key writes that record no
                                 change (keys created or revoked through the store reach a server at once) */
  /* The sensor stream to run inside the server (pipeline/stream.h), on its own thread and store
   * connection, from start until stop; NULL: none. Copied at start (its strings and clock must outlive
   * the server); its stop flag and status callback are the server's own. */
  const struct oc_stream_options *stream;
  const char *rate_limits; /* where the keys' token buckets live (ratelimit.h): "node", "store" (shared by
                              every server on the store) or "auto" (the default: the store unless SQLite) */
} oc_serve_config;

/* The worker threads a server starts unless told: one per CPU this process may run on, 2 to 64. */
unsigned oc_serve_default_threads(void);

/* Fills defaults for every field (data_dir excepted). */
void oc_serve_config_defaults(oc_serve_config *cfg);

/* Parses a --listen HOST:PORT (IPv4 or localhost, port 0..65535) into *addr; -1 with the reason. */
struct sockaddr_in;
int oc_serve_parse_listen(const char *listen, struct sockaddr_in *addr, oc_error *err);
int oc_server_start(const oc_serve_config *cfg, oc_server **out, oc_error *err);
unsigned short oc_server_port(const oc_server *s);
/* What SIGHUP asks for: re-reads the API keys and every endpoint from the data directory, as if each
 * had changed. Requests keep being served meanwhile. 0, or -1 with the reason. */
int oc_server_reload(oc_server *s, oc_error *err);
/* Graceful stop: stops accepting, waits up to drain_seconds for in-flight requests, closes streams,
 * then frees everything. */
void oc_server_stop(oc_server *s, double drain_seconds);

#endif
