/* libpq_lazy.h: libpq, the PostgreSQL client of the scale-out store (store/store_pg*.c), loaded on first
 * use (core/dynlib.h) instead of linked: a command that never calls it does not load it. Include it instead
 * of the library's own header: it names each function the code calls as its entry in the loaded table, so
 * calls read as plain calls. A function not listed here does not link; add it to the list. */
#ifndef OC_STORE_LIBPQ_LAZY_H
#define OC_STORE_LIBPQ_LAZY_H

#include <libpq-fe.h>

#include "core/dynlib.h"

#define OC_LIBPQ_FUNCTIONS(X) \
  X(PQclear) \
  X(PQcmdTuples) \
  X(PQconnectdb) \
  X(PQconnectdbParams) \
  X(PQconsumeInput) \
  X(PQdb) \
  X(PQerrorMessage) \
  X(PQescapeIdentifier) \
  X(PQexec) \
  X(PQexecParams) \
  X(PQfinish) \
  X(PQfreemem) \
  X(PQftype) \
  X(PQgetResult) \
  X(PQgetisnull) \
  X(PQgetvalue) \
  X(PQnotifies) \
  X(PQntuples) \
  X(PQputCopyData) \
  X(PQputCopyEnd) \
  X(PQreset) \
  X(PQresultErrorField) \
  X(PQresultErrorMessage) \
  X(PQresultStatus) \
  X(PQsendQuery) \
  X(PQsetSingleRowMode) \
  X(PQsocket) \
  X(PQstatus) \
  X(PQtransactionStatus) \
  X(PQunescapeBytea)

enum {
#define OC_LIBPQ_INDEX(name) OC_LIBPQ_##name,
  OC_LIBPQ_FUNCTIONS(OC_LIBPQ_INDEX)
#undef OC_LIBPQ_INDEX
  OC_LIBPQ_COUNT
};

extern oc_dynlib_table oc_libpq_table;
/* The loaded function (the name stays the library's own here: a macro does not expand inside itself). */
#define OC_LIBPQ(name) ((__typeof__(name) *)oc_dynlib_table_fn(&oc_libpq_table, OC_LIBPQ_##name))
#define PQclear OC_LIBPQ(PQclear)
#define PQcmdTuples OC_LIBPQ(PQcmdTuples)
#define PQconnectdb OC_LIBPQ(PQconnectdb)
#define PQconnectdbParams OC_LIBPQ(PQconnectdbParams)
#define PQconsumeInput OC_LIBPQ(PQconsumeInput)
#define PQdb OC_LIBPQ(PQdb)
#define PQerrorMessage OC_LIBPQ(PQerrorMessage)
#define PQescapeIdentifier OC_LIBPQ(PQescapeIdentifier)
#define PQexec OC_LIBPQ(PQexec)
#define PQexecParams OC_LIBPQ(PQexecParams)
#define PQfinish OC_LIBPQ(PQfinish)
#define PQfreemem OC_LIBPQ(PQfreemem)
#define PQftype OC_LIBPQ(PQftype)
#define PQgetResult OC_LIBPQ(PQgetResult)
#define PQgetisnull OC_LIBPQ(PQgetisnull)
#define PQgetvalue OC_LIBPQ(PQgetvalue)
#define PQnotifies OC_LIBPQ(PQnotifies)
#define PQntuples OC_LIBPQ(PQntuples)
#define PQputCopyData OC_LIBPQ(PQputCopyData)
#define PQputCopyEnd OC_LIBPQ(PQputCopyEnd)
#define PQreset OC_LIBPQ(PQreset)
#define PQresultErrorField OC_LIBPQ(PQresultErrorField)
#define PQresultErrorMessage OC_LIBPQ(PQresultErrorMessage)
#define PQresultStatus OC_LIBPQ(PQresultStatus)
#define PQsendQuery OC_LIBPQ(PQsendQuery)
#define PQsetSingleRowMode OC_LIBPQ(PQsetSingleRowMode)
#define PQsocket OC_LIBPQ(PQsocket)
#define PQstatus OC_LIBPQ(PQstatus)
#define PQtransactionStatus OC_LIBPQ(PQtransactionStatus)
#define PQunescapeBytea OC_LIBPQ(PQunescapeBytea)

#endif
