/* mqtt.c: the subscriber's MQTT session (mqtt.h): connect, subscribe, read PUBLISH packets into a
 * batch, hand the batch to the caller, and only then PUBACK it; PINGREQ when the line is quiet;
 * reconnect with backoff. A batch ends when the socket has nothing more to read right now (so under
 * light load a message waits for nothing), at batch_max messages, or when its first message is
 * batch_ms old. Between batches, while connected, the caller's tick runs every tick_ms. A batch whose connection broke before it was handled is dropped unacknowledged: the
 * broker redelivers it to the persistent session. It must not parse payloads or touch the store. */
#include "ingest/mqtt.h"

#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/utf8.h"
#include "ingest/mqtt_packet.h"

oc_mqtt_options oc_mqtt_options_default(void) {
  return (oc_mqtt_options){.filter = "$share/oilcast/oil/sensors/#",
                           .keepalive_seconds = 30,
                           .batch_max = 500,
                           .batch_ms = 50,
                           .backoff_max_seconds = 5.0};
}

void oc_mqtt_default_client_id(const char *role, char *buf, size_t cap) {
  assert(cap > 0);
  char host[256];
  if (gethostname(host, sizeof host) != 0 || !host[0]) strcpy(host, "localhost");
  host[sizeof host - 1] = '\0'; /* gethostname need not terminate a truncated name */
  snprintf(buf, cap, "oilcast-%s-%s", role, host);
}

int oc_mqtt_parse_url(const char *url, char *host, size_t cap, int *port, oc_error *err) {
  static const char scheme[] = "mqtt://";
  if (strncmp(url, scheme, sizeof scheme - 1) != 0)
    return oc_error_set(err, "broker '%s': not an mqtt://HOST[:PORT] URL", url);
  const char *h = url + sizeof scheme - 1;
  size_t len = strcspn(h, "/"); /* HOST[:PORT], then nothing or a lone "/" */
  if ((h[len] && strcmp(h + len, "/") != 0) || memchr(h, '@', len))
    return oc_error_set(err, "broker '%s': expected mqtt://HOST[:PORT] (no user, no path)", url);
  const char *colon = memrchr(h, ':', len);
  size_t hlen = colon ? (size_t)(colon - h) : len;
  if (hlen == 0 || hlen >= cap) return oc_error_set(err, "broker '%s': no host, or a host longer than %zu bytes", url, cap - 1);
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  *port = 1883;
  if (colon) {
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || end != h + len || errno || p < 1 || p > 65535)
      return oc_error_set(err, "broker '%s': the port is not 1..65535", url);
    *port = (int)p;
  }
  return 0;
}

int oc_mqtt_filter_check(const char *filter, oc_error *err) {
  static const char share[] = "$share/";
  const char *f = filter;
  if (strncmp(f, share, sizeof share - 1) == 0) {
    const char *group = f + sizeof share - 1;
    size_t len = strcspn(group, "/+#");
    if (len == 0 || group[len] != '/')
      return oc_error_set(err, "topic filter '%s': $share/GROUP/FILTER needs a group of one level without '+' or '#'",
                          filter);
    f = group + len + 1;
  }
  if (!*f) return oc_error_set(err, "topic filter '%s': empty", filter);
  if (strlen(filter) > UINT16_MAX || !oc_utf8_valid(f))
    return oc_error_set(err, "topic filter '%s': not UTF-8 text of at most 65535 bytes", filter);
  for (const char *level = f;; level++) {
    size_t len = strcspn(level, "/");
    if (memchr(level, '#', len) && (len != 1 || level[len] != '\0'))
      return oc_error_set(err, "topic filter '%s': '#' must be a whole level, the last one", filter);
    if (memchr(level, '+', len) && len != 1)
      return oc_error_set(err, "topic filter '%s': '+' must be a whole level", filter);
    level += len;
    if (!*level) return 0;
  }
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One connection's state. */
typedef struct session {
  const oc_mqtt_options *opt;
  int fd;
  oc_buf in;             /* received bytes not yet decoded */
  size_t skip;           /* bytes still to come of a packet decoded from its first ones (oc_mqtt_decode's
                          * payload_dropped): thrown away as they arrive */
  oc_buf out;            /* scratch for encoding */
  double last_sent;      /* monotonic seconds */
  double ping_sent;      /* 0: no PINGREQ outstanding */
  oc_mqtt_message *batch;
  size_t batch_n, batch_cap;
  double batch_started;
} session;

static void batch_clear(session *s) {
  for (size_t i = 0; i < s->batch_n; i++) {
    free(s->batch[i].topic);
    free(s->batch[i].payload);
  }
  s->batch_n = 0;
}

/* Sends s->out whole; -1 with err when the connection is gone. */
static int send_out(session *s, oc_error *err) {
  size_t off = 0;
  while (off < s->out.len) {
    ssize_t w = send(s->fd, s->out.data + off, s->out.len - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return oc_error_errno(err, "sending to the broker");
    off += (size_t)w;
  }
  oc_buf_clear(&s->out);
  s->last_sent = now_seconds();
  return 0;
}

/* Reads what the socket has (waiting up to timeout_ms for the first byte). 1: bytes read, 0: none by
 * then, -1 with err: the connection closed or failed. */
static int receive(session *s, int timeout_ms, oc_error *err) {
  struct pollfd p = {.fd = s->fd, .events = POLLIN};
  int r = poll(&p, 1, timeout_ms);
  if (r < 0) return errno == EINTR ? 0 : oc_error_errno(err, "waiting for the broker");
  if (r == 0) return 0;
  oc_buf_reserve(&s->in, 65536);
  ssize_t n = recv(s->fd, s->in.data + s->in.len, 65536, 0);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  if (n < 0) return oc_error_errno(err, "reading from the broker");
  if (n == 0) /* what a client sees when another connects with its id: say so, as that loops */
    return oc_error_set(err, "the broker closed the connection (if this repeats, is another instance using client id '%s'?)",
                        s->opt->client_id);
  s->in.len += (size_t)n;
  s->in.data[s->in.len] = '\0'; /* oc_buf's invariant */
  return 1;
}

static void consume(session *s, size_t used) {
  memmove(s->in.data, s->in.data + used, s->in.len - used + 1); /* with the NUL */
  s->in.len -= used;
}

/* The next whole packet from s->in into *pkt (its bytes stay valid until the next call consumes
 * them: *used says how many to drop), after the rest of a packet decoded from its first bytes is
 * thrown away. 1, 0 (need more), -1 (malformed, with err). */
static int next_packet(session *s, oc_mqtt_packet *pkt, size_t *used, oc_error *err) {
  if (s->skip) {
    size_t n = s->skip < s->in.len ? s->skip : s->in.len;
    consume(s, n);
    s->skip -= n;
    if (s->skip) return 0;
  }
  return oc_mqtt_decode((const uint8_t *)s->in.data, s->in.len, pkt, used, err);
}

/* Drops a handled packet's bytes, and later the rest of one decoded from its first bytes. */
static void consume_packet(session *s, const oc_mqtt_packet *pkt, size_t used) {
  consume(s, used);
  s->skip = pkt->payload_dropped;
}

static void batch_add(session *s, const oc_mqtt_packet *pkt);

/* Waits for one packet of type `type` (CONNACK, SUBACK) for up to 10 s. A resumed session's queued
 * PUBLISH packets may come first: they join the batch. */
static int await_packet(session *s, int type, oc_mqtt_packet *pkt, oc_error *err) {
  double deadline = now_seconds() + 10;
  for (;;) {
    size_t used;
    int r = next_packet(s, pkt, &used, err);
    if (r < 0) return -1;
    if (r == 1) {
      bool wanted = pkt->type == type;
      if (pkt->type == OC_MQTT_PUBLISH && type != OC_MQTT_CONNACK) batch_add(s, pkt);
      else if (!wanted) return oc_error_set(err, "the broker sent packet type %d before type %d", pkt->type, type);
      consume_packet(s, pkt, used); /* CONNACK and SUBACK keep no pointer into the bytes */
      if (wanted) return 0;
      continue;
    }
    if (now_seconds() > deadline) return oc_error_set(err, "no answer from the broker within 10 s");
    if (atomic_load(s->opt->stop)) return oc_error_set(err, "stopped");
    if (receive(s, 200, err) < 0) return -1;
  }
}

static int connect_tcp(const char *host, int port, oc_error *err) {
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
  int rc = getaddrinfo(host, service, &hints, &res);
  if (rc != 0) return oc_error_set(err, "broker %s:%d: %s", host, port, gai_strerror(rc));
  int fd = -1;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return oc_error_errno(err, "connecting to the broker %s:%d", host, port);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* CONNECT, CONNACK, SUBSCRIBE, SUBACK. 0; -1 with *fatal set when the broker refused us (retrying
 * cannot help), clear when the connection failed. */
static int handshake(session *s, bool *fatal, oc_error *err) {
  const oc_mqtt_options *o = s->opt;
  *fatal = false;
  oc_mqtt_connect c = {.client_id = o->client_id, .username = o->username, .password = o->password,
                       .clean_session = false, .keepalive_seconds = o->keepalive_seconds};
  oc_mqtt_encode_connect(&s->out, &c);
  oc_mqtt_packet pkt;
  if (send_out(s, err) != 0 || await_packet(s, OC_MQTT_CONNACK, &pkt, err) != 0) return -1;
  if (pkt.return_code != 0) {
    *fatal = true;
    return oc_error_set(err, "the broker refused client '%s': %s", o->client_id, oc_mqtt_connack_reason(pkt.return_code));
  }
  oc_mqtt_encode_subscribe(&s->out, 1, o->filter, 1);
  if (send_out(s, err) != 0 || await_packet(s, OC_MQTT_SUBACK, &pkt, err) != 0) return -1;
  if (pkt.granted_qos == 0x80) {
    *fatal = true;
    return oc_error_set(err, "the broker refused the subscription to '%s' (check the ACL)", o->filter);
  }
  return 0;
}

static void batch_add(session *s, const oc_mqtt_packet *pkt) {
  if (s->batch_n == 0) s->batch_started = now_seconds();
  oc_xgrow((void **)&s->batch, &s->batch_cap, s->batch_n + 1, sizeof *s->batch);
  oc_mqtt_message *m = &s->batch[s->batch_n++];
  m->topic = oc_xmalloc(pkt->topic_len + 1);
  memcpy(m->topic, pkt->topic, pkt->topic_len);
  m->topic[pkt->topic_len] = '\0';
  m->payload = oc_xmalloc(pkt->payload_len + 1);
  if (pkt->payload_len) memcpy(m->payload, pkt->payload, pkt->payload_len);
  m->payload_len = pkt->payload_len;
  m->payload_dropped = pkt->payload_dropped;
  m->packet_id = pkt->qos ? pkt->packet_id : 0;
  m->dup = pkt->dup;
}

/* Hands the batch to the caller and, when it committed, acknowledges it. -1 with *handler_failed set
 * when the handler failed, clear when the PUBACKs could not be sent (the broker will redeliver). */
static int flush(session *s, oc_mqtt_counts *counts, bool *handler_failed, oc_error *err) {
  *handler_failed = false;
  if (s->batch_n == 0) return 0;
  if (s->opt->on_batch(s->opt->ctx, s->batch, s->batch_n, err) != 0) {
    *handler_failed = true;
    return oc_error_prefix(err, "a batch of %zu messages not stored (the broker sends it again): ", s->batch_n);
  }
  for (size_t i = 0; i < s->batch_n; i++)
    if (s->batch[i].packet_id) oc_mqtt_encode_puback(&s->out, s->batch[i].packet_id);
  counts->messages += (int64_t)s->batch_n;
  counts->batches++;
  batch_clear(s);
  return send_out(s, err);
}

/* Decodes every whole packet received so far. -1 with err on a malformed packet. */
static int take_packets(session *s, oc_mqtt_counts *counts, bool *handler_failed, oc_error *err) {
  for (;;) {
    oc_mqtt_packet pkt;
    size_t used;
    int r = next_packet(s, &pkt, &used, err);
    if (r <= 0) return r;
    if (pkt.type == OC_MQTT_PUBLISH) batch_add(s, &pkt);
    else if (pkt.type == OC_MQTT_PINGRESP) s->ping_sent = 0;
    else return oc_error_set(err, "unexpected packet type %d from the broker", pkt.type);
    consume_packet(s, &pkt, used);
    if (s->batch_n >= s->opt->batch_max && flush(s, counts, handler_failed, err) != 0) return -1;
  }
}

/* One connection, from the handshake until it breaks (-1), the caller's handler or tick fails (-1,
 * *caller_failed set), the broker refuses (-1, *fatal set) or stop (0, after flushing and DISCONNECT). */
static int run_connection(session *s, oc_mqtt_counts *counts, bool *fatal, bool *caller_failed, oc_error *err) {
  const oc_mqtt_options *o = s->opt;
  if (handshake(s, fatal, err) != 0) return -1;
  counts->connects++;
  if (o->on_status) { /* the client id too: instances sharing the filter are told apart by it */
    char what[1024];
    snprintf(what, sizeof what, "%s as client '%s'", o->filter, o->client_id);
    o->on_status(o->ctx, true, what);
  }
  double keepalive = o->keepalive_seconds, next_tick = now_seconds() + o->tick_ms / 1000.0;
  for (;;) {
    bool stopping = atomic_load(o->stop);
    int wait_ms = 200;
    if (s->batch_n) {
      double left = s->batch_started + o->batch_ms / 1000.0 - now_seconds();
      wait_ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
    }
    int r = stopping ? 0 : receive(s, s->batch_n ? 0 : wait_ms, err);
    if (r < 0) return -1;
    if (take_packets(s, counts, caller_failed, err) != 0) return -1;
    /* Nothing more to read right now, the batch is old enough, or stopping: commit and acknowledge. */
    if (r == 0 || now_seconds() - s->batch_started >= o->batch_ms / 1000.0)
      if (flush(s, counts, caller_failed, err) != 0) return -1;
    if (stopping) {
      oc_mqtt_encode_disconnect(&s->out);
      send_out(s, err); /* the session persists either way */
      return 0;
    }
    double now = now_seconds();
    if (o->on_tick && now >= next_tick) {
      next_tick = now + o->tick_ms / 1000.0;
      if (o->on_tick(o->ctx, err) != 0) {
        *caller_failed = true;
        return -1;
      }
    }
    if (keepalive > 0 && s->ping_sent && now - s->ping_sent > keepalive)
      return oc_error_set(err, "no PINGRESP from the broker within %g s", keepalive);
    if (keepalive > 0 && !s->ping_sent && now - s->last_sent >= keepalive / 2) {
      oc_mqtt_encode_pingreq(&s->out);
      if (send_out(s, err) != 0) return -1;
      s->ping_sent = now;
    }
  }
}

/* Sleeps up to seconds, waking early on stop. */
static void backoff_sleep(const oc_mqtt_options *o, double seconds) {
  for (double slept = 0; slept < seconds && !atomic_load(o->stop); slept += 0.05) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

int oc_mqtt_run(const oc_mqtt_options *given, oc_mqtt_counts *counts, oc_error *err) {
  char host[256], default_id[300];
  int port;
  oc_mqtt_options resolved = *given;
  if (!resolved.client_id) {
    oc_mqtt_default_client_id("stream", default_id, sizeof default_id);
    resolved.client_id = default_id;
  }
  const oc_mqtt_options *opt = &resolved;
  if (oc_mqtt_parse_url(opt->broker, host, sizeof host, &port, err) != 0) return -1;
  if (!opt->stop || !opt->on_batch || !*opt->client_id || !opt->filter || opt->batch_max < 1 ||
      opt->batch_ms < 0 || (opt->on_tick && opt->tick_ms <= 0))
    return oc_error_set(err, "MQTT session options incomplete (stop flag, handler, client id, filter, batch size, tick interval)");
  session s = {.opt = opt, .fd = -1};
  double delay = 0.1;
  int rc = 0;
  while (!atomic_load(opt->stop)) {
    oc_error why;
    oc_error_clear(&why);
    bool fatal = false, caller_failed = false;
    s.fd = connect_tcp(host, port, &why);
    if (s.fd >= 0) {
      oc_buf_clear(&s.in);
      s.skip = 0;
      s.ping_sent = 0;
      s.last_sent = now_seconds();
      int64_t connects = counts->connects;
      int r = run_connection(&s, counts, &fatal, &caller_failed, &why);
      close(s.fd);
      s.fd = -1;
      batch_clear(&s); /* unacknowledged: the broker redelivers these */
      if (r == 0) break;
      /* It worked for a while: start the backoff again; not after the caller failed (a store busy or
       * refusing may stay so, and each retry takes the whole batch again). */
      if (counts->connects > connects && !caller_failed) delay = 0.1;
    }
    if (fatal) {
      *err = why;
      rc = -1;
      break;
    }
    if (opt->on_status) opt->on_status(opt->ctx, false, why.message);
    backoff_sleep(opt, delay);
    delay = delay * 2 > opt->backoff_max_seconds ? opt->backoff_max_seconds : delay * 2;
  }
  batch_clear(&s);
  free(s.batch);
  oc_buf_free(&s.in);
  oc_buf_free(&s.out);
  return rc;
}
