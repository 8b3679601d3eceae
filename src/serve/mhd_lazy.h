/* mhd_lazy.h: libmicrohttpd, the HTTP server of oilcast serve (serve/server.c and its responders), loaded
 * on first use (core/dynlib.h) instead of linked: a command that never calls it does not load it. Include
 * it instead of the library's own header: it names each function the code calls as its entry in the loaded
 * table, so calls read as plain calls. A function not listed here does not link; add it to the list. */
#ifndef OC_SERVE_MHD_LAZY_H
#define OC_SERVE_MHD_LAZY_H

#include <microhttpd.h>

#include "core/dynlib.h"

#define OC_MHD_FUNCTIONS(X) \
  X(MHD_add_response_header) \
  X(MHD_create_response_from_buffer) \
  X(MHD_create_response_from_callback) \
  X(MHD_create_response_from_fd) \
  X(MHD_destroy_response) \
  X(MHD_get_connection_info) \
  X(MHD_get_connection_values) \
  X(MHD_get_daemon_info) \
  X(MHD_get_response_header) \
  X(MHD_http_unescape) \
  X(MHD_lookup_connection_value) \
  X(MHD_queue_response) \
  X(MHD_quiesce_daemon) \
  X(MHD_resume_connection) \
  X(MHD_start_daemon) \
  X(MHD_stop_daemon) \
  X(MHD_suspend_connection)

enum {
#define OC_MHD_INDEX(name) OC_MHD_##name,
  OC_MHD_FUNCTIONS(OC_MHD_INDEX)
#undef OC_MHD_INDEX
  OC_MHD_COUNT
};

extern oc_dynlib_table oc_mhd_table;
/* The loaded function (the name stays the library's own here: a macro does not expand inside itself). */
#define OC_MHD(name) ((__typeof__(name) *)oc_dynlib_table_fn(&oc_mhd_table, OC_MHD_##name))
#define MHD_add_response_header OC_MHD(MHD_add_response_header)
#define MHD_create_response_from_buffer OC_MHD(MHD_create_response_from_buffer)
#define MHD_create_response_from_callback OC_MHD(MHD_create_response_from_callback)
#define MHD_create_response_from_fd OC_MHD(MHD_create_response_from_fd)
#define MHD_destroy_response OC_MHD(MHD_destroy_response)
#define MHD_get_connection_info OC_MHD(MHD_get_connection_info)
#define MHD_get_connection_values OC_MHD(MHD_get_connection_values)
#define MHD_get_daemon_info OC_MHD(MHD_get_daemon_info)
#define MHD_get_response_header OC_MHD(MHD_get_response_header)
#define MHD_http_unescape OC_MHD(MHD_http_unescape)
#define MHD_lookup_connection_value OC_MHD(MHD_lookup_connection_value)
#define MHD_queue_response OC_MHD(MHD_queue_response)
#define MHD_quiesce_daemon OC_MHD(MHD_quiesce_daemon)
#define MHD_resume_connection OC_MHD(MHD_resume_connection)
#define MHD_start_daemon OC_MHD(MHD_start_daemon)
#define MHD_stop_daemon OC_MHD(MHD_stop_daemon)
#define MHD_suspend_connection OC_MHD(MHD_suspend_connection)

#endif
