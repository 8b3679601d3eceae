/* store_alerts.c: backend-independent helpers for the alert records of store.h (freeing lists). Must
 * not know any backend. */
#include <stdlib.h>

#include "store/store.h"

void oc_alert_list_free(oc_alert *list, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(list[i].labels_json);
    free(list[i].annotations_json);
  }
  free(list);
}

void oc_alert_event_list_free(oc_alert_event *events, size_t n) {
  for (size_t i = 0; i < n; i++) free(events[i].labels_json);
  free(events);
}
