/* store_turn.c: the process's write turn per database (store_turn.h): a list of turns keyed by
 * database, each a flag and the thread that took it under one mutex, with a condition to wait on.
 * Must not know any backend. */
#include "store/store_turn.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

struct oc_store_turn {
  char *key;
  size_t refs;          /* guarded by turns_lock */
  pthread_mutex_t lock; /* guards taken and taker */
  pthread_cond_t freed;
  bool taken;
  pthread_t taker; /* the thread that took the turn, while taken */
  struct oc_store_turn *next;
};

static pthread_mutex_t turns_lock = PTHREAD_MUTEX_INITIALIZER;
static oc_store_turn *turns;

oc_store_turn *oc_store_turn_get(const char *key) {
  pthread_mutex_lock(&turns_lock);
  oc_store_turn *t = turns;
  while (t && strcmp(t->key, key) != 0) t = t->next;
  if (!t) {
    t = oc_xcalloc(1, sizeof *t);
    t->key = oc_xstrdup(key);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->freed, NULL);
    t->next = turns;
    turns = t;
  }
  t->refs++;
  pthread_mutex_unlock(&turns_lock);
  return t;
}

void oc_store_turn_put(oc_store_turn *turn) {
  pthread_mutex_lock(&turns_lock);
  if (--turn->refs == 0) {
    oc_store_turn **p = &turns;
    while (*p != turn) p = &(*p)->next;
    *p = turn->next;
    pthread_cond_destroy(&turn->freed);
    pthread_mutex_destroy(&turn->lock);
    free(turn->key);
    free(turn);
  }
  pthread_mutex_unlock(&turns_lock);
}

bool oc_store_turn_take(oc_store_turn *turn) {
  pthread_t me = pthread_self();
  pthread_mutex_lock(&turn->lock);
  bool mine = turn->taken && pthread_equal(turn->taker, me);
  while (!mine && turn->taken) pthread_cond_wait(&turn->freed, &turn->lock);
  if (!mine) {
    turn->taken = true;
    turn->taker = me;
  }
  pthread_mutex_unlock(&turn->lock);
  return !mine;
}

void oc_store_turn_give(oc_store_turn *turn) {
  pthread_mutex_lock(&turn->lock);
  assert(turn->taken);
  turn->taken = false;
  pthread_cond_signal(&turn->freed);
  pthread_mutex_unlock(&turn->lock);
}
