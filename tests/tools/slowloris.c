/* slowloris.c: the attacker of tests/e2e/serve_slowloris.sh and bench/serve/run: keeps COUNT connections
 * open to a loopback HTTP server from ADDRESSES source addresses (127.77.0.1 on; Linux routes all of
 * 127/8 to loopback), each one trickling a header line (mode headers), a body line after a complete
 * header (mode body) or nothing at all (mode idle) every INTERVAL seconds, and reconnecting a while after
 * the server closes one. Runs SECONDS, then prints one line of counts: connections opened, the most open
 * at once, closed by the server, still open, and of those the ones open for a second or more (held: not
 * merely waiting in the listen queue or for their refusal). SIGTERM ends the run early with the same line,
 * so a test stops the attack as soon as its legitimate client is done instead of sleeping out SECONDS. A test tool: never part of oilcast; must not read what the
 * server sends (a slow reader is not what it plays). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef enum { MODE_HEADERS, MODE_BODY, MODE_IDLE } attack_mode;

typedef struct attacker_conn {
  int fd;          /* -1 while waiting to reconnect */
  double next;     /* when to send the next line, or to reconnect */
  double opened;   /* when it connected */
  unsigned lines;  /* lines sent on this connection */
  unsigned source; /* index of its source address */
} attacker_conn;

static volatile sig_atomic_t stop_requested;

static void request_stop(int signo) {
  (void)signo;
  stop_requested = 1;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_conn(int epoll_fd, unsigned short port, unsigned source, size_t index) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in from = {.sin_family = AF_INET};
  from.sin_addr.s_addr = htonl((127u << 24) | (77u << 16) | (source + 1));
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
      (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS)) {
    close(fd);
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = index};
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  return fd;
}

/* The next line this connection trickles. */
static const char *next_line(attack_mode mode, unsigned lines) {
  if (mode == MODE_HEADERS) return lines == 0 ? "GET /v1/series HTTP/1.1\r\n" : "X-Slow: still coming\r\n";
  if (lines == 0) return "POST /v1/series/WTI/observations HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n";
  return "{\"observations\":[{\"date\":\"2020-01-01\",\"price\":1}]}\n";
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s PORT headers|body|idle COUNT ADDRESSES INTERVAL SECONDS\n", argv[0]);
    return 2;
  }
  unsigned short port = (unsigned short)atoi(argv[1]);
  attack_mode mode = strcmp(argv[2], "headers") == 0 ? MODE_HEADERS : strcmp(argv[2], "body") == 0 ? MODE_BODY : MODE_IDLE;
  size_t count = (size_t)atol(argv[3]);
  unsigned addresses = (unsigned)atoi(argv[4]);
  double interval = atof(argv[5]), seconds = atof(argv[6]);
  if (count == 0 || addresses == 0 || addresses > 60000 || interval <= 0) {
    fprintf(stderr, "slowloris: COUNT, ADDRESSES and INTERVAL must be positive\n");
    return 2;
  }
  struct sigaction on_term = {.sa_handler = request_stop};
  sigaction(SIGTERM, &on_term, NULL);
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  attacker_conn *conns = calloc(count, sizeof *conns);
  double start = now_seconds(), end = start + seconds;
  unsigned long opened = 0, closed_by_server = 0;
  size_t open_now = 0, peak = 0;
  for (size_t i = 0; i < count; i++) {
    conns[i].fd = -1;
    conns[i].source = (unsigned)(i % addresses);
    conns[i].next = start + seconds * 0.2 * (double)i / (double)count; /* ramp up over a fifth of the run */
  }
  struct epoll_event events[256];
  char sink[4096];
  for (double now = start; now < end && !stop_requested; now = now_seconds()) {
    int n = epoll_wait(epoll_fd, events, 256, 10);
    for (int e = 0; e < n; e++) {
      attacker_conn *c = &conns[events[e].data.u64];
      if (c->fd < 0) continue;
      ssize_t got = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
      if (got > 0 || (got < 0 && errno == EAGAIN)) continue; /* an answer (a 503 or 400): wait for the close */
      close(c->fd);
      c->fd = -1;
      open_now--;
      closed_by_server++;
      c->next = now + 0.5; /* reconnect later: pressure, not a connect storm on two cores */
    }
    for (size_t i = 0; i < count; i++) {
      attacker_conn *c = &conns[i];
      if (c->next > now) continue;
      if (c->fd < 0) {
        c->fd = open_conn(epoll_fd, port, c->source, i);
        c->lines = 0;
        c->opened = now;
        c->next = now + (c->fd < 0 ? 0.5 : mode == MODE_IDLE ? 1e9 : 0.05);
        if (c->fd >= 0 && ++opened && ++open_now > peak) peak = open_now;
        continue;
      }
      const char *line = next_line(mode, c->lines++);
      ssize_t ignored = send(c->fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
      (void)ignored;
      c->next = now + interval;
    }
  }
  size_t held = 0;
  double now = now_seconds();
  for (size_t i = 0; i < count; i++) {
    if (conns[i].fd < 0) continue;
    if (now - conns[i].opened >= 1) held++;
    close(conns[i].fd);
  }
  printf("opened %lu peak_open %zu closed_by_server %lu open_at_end %zu held_at_end %zu\n", opened, peak,
         closed_by_server, open_now, held);
  free(conns);
  close(epoll_fd);
  return 0;
}
