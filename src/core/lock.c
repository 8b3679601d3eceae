/* lock.c: see lock.h. */
#include "core/lock.h"

#include <assert.h>

void oc_lock_init(oc_lock *l) {
  pthread_mutex_init(&l->mutex, NULL);
  atomic_init(&l->owner, 0);
}

void oc_lock_destroy(oc_lock *l) {
  assert(atomic_load_explicit(&l->owner, memory_order_relaxed) == 0);
  pthread_mutex_destroy(&l->mutex);
}

void oc_lock_acquire(oc_lock *l) {
  assert(!oc_lock_held(l)); /* not recursive: a second acquire would deadlock */
  pthread_mutex_lock(&l->mutex);
  atomic_store_explicit(&l->owner, pthread_self(), memory_order_relaxed);
}

void oc_lock_release(oc_lock *l) {
  assert(oc_lock_held(l));
  atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
  pthread_mutex_unlock(&l->mutex);
}

int oc_lock_wait_until(oc_lock *l, pthread_cond_t *cond, const struct timespec *until) {
  assert(oc_lock_held(l));
  atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
  int rc = pthread_cond_timedwait(cond, &l->mutex, until);
  atomic_store_explicit(&l->owner, pthread_self(), memory_order_relaxed);
  return rc;
}

bool oc_lock_held(const oc_lock *l) {
  return pthread_equal(atomic_load_explicit(&l->owner, memory_order_relaxed), pthread_self()) != 0;
}
