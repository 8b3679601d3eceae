/* lock.h: a mutex that knows which thread holds it, so a function whose comment says "caller holds
 * the lock" asserts it (assert(oc_lock_held(&x->lock))) instead of trusting it. The owner is a relaxed
 * atomic written only by the holder: a thread asking about itself reads its own write or a value that
 * is not its id, so the check is exact and race-free (ThreadSanitizer agrees). Costs two relaxed stores
 * per lock and unlock. Not recursive; must not be used across fork. */
#ifndef OC_LOCK_H
#define OC_LOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct oc_lock {
  pthread_mutex_t mutex;
  /* pthread_self() of the holder, 0 when free (glibc's pthread_t is the address of the thread's
   * descriptor, never 0). */
  _Atomic(pthread_t) owner;
} oc_lock;

void oc_lock_init(oc_lock *l);
void oc_lock_destroy(oc_lock *l);
void oc_lock_acquire(oc_lock *l);
void oc_lock_release(oc_lock *l);
/* pthread_cond_timedwait on l (held by the caller), which it holds again on return: 0 or ETIMEDOUT. */
int oc_lock_wait_until(oc_lock *l, pthread_cond_t *cond, const struct timespec *until);
/* Does the calling thread hold l? For assertions. */
bool oc_lock_held(const oc_lock *l);

#endif
