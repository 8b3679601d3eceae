/* store_turn.h: the write turn that the connections of one process to one database take before the
 * database's own write lock, for every backend: a server's workers queue behind each other here (their
 * writes are short) and a connection's wait policy (store.h) only ever meets a writer of another
 * process, such as a long import. A thread that holds the turn through another connection does not
 * queue behind itself (that connection's wait is the database's, by the policy). The turn is not a
 * mutex: a connection may begin in one thread and commit in another (store.h only asks for one thread
 * at a time). Backends only; callers never see it. */
#ifndef OC_STORE_TURN_H
#define OC_STORE_TURN_H

#include <stdbool.h>

typedef struct oc_store_turn oc_store_turn;

/* The turn of the database named by key (a canonical name: a file's real path, a connection URI),
 * shared by every connection of the process that asks for the same key; release with oc_store_turn_put. */
oc_store_turn *oc_store_turn_get(const char *key);
void oc_store_turn_put(oc_store_turn *turn);
/* Waits for the turn and takes it, unless this thread holds it already: true when it was taken (and
 * must be given back with oc_store_turn_give), false when this thread held it. */
bool oc_store_turn_take(oc_store_turn *turn);
void oc_store_turn_give(oc_store_turn *turn);

#endif
