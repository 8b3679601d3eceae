/* dashboard_static.h: the static dashboard export behind `oilcast dashboard` (the reference guide's
 * create_dashboard.py): reads a price history and a forecast from JSON files, validates them, and
 * renders ONE self-contained HTML page (web/index.html with its CSS, scripts, plotly.js and the data
 * inlined) that opens offline; optionally serves that page on loopback. Also locates the dashboard's
 * files for both commands. It must not touch the store or the REST server (the other src/serve/
 * files belong to `oilcast serve`). */
#ifndef OC_DASHBOARD_STATIC_H
#define OC_DASHBOARD_STATIC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/error.h"

/* Reads a price history. Accepted shapes:
 *   [71.2, 70.9, ...]                          needs start_date (OC_DATE_INVALID -> error); the dates
 *                                              are consecutive trading days (core/calendar.h) from the
 *                                              first trading day on or after start_date
 *   [{"date":"2024-01-02","price":71.2}, ...]  ("value" instead of "price" too)
 *   {"series":"WTI","source":"historical","observations":[{"date":..,"value":..}, ...]}
 *                                              (GET /v1/series/{name}; series and source optional)
 * Dates strictly ascending, prices finite (negative allowed: WTI settled at -36.98 on 2020-04-20).
 * *out = {"series":NAME, "source":SOURCE (each when given), "observations":[{"date","value"}, ...]}
 * (new reference). */
int oc_dashboard_load_history(const char *path, oc_date start_date, json_t **out, oc_error *err);

/* Reads a forecast. Accepted shapes: an array of points, or an object with "points" (the
 * /v1/forecasts/latest shape) or "forecast" (`oilcast forecast --format json`) holding them; the
 * object's other string and number fields (series, model, model_version, origin, as_of, created_at,
 * endpoint, variant, ...) are kept. A point is {"date","price"} plus optional
 * lower80/upper80 and lower95/upper95 (each pair both or neither, lower <= upper, the 95% interval
 * containing the 80% one). Dates strictly ascending.
 * *out = {"points":[...], other fields...} (new reference). */
int oc_dashboard_load_forecast(const char *path, json_t **out, oc_error *err);

/* Where the page sources and plotly come from (each malloc'd):
 *   web dir:     $OILCAST_WEB_DIR when set;
 *   plotly:      $OILCAST_PLOTLY_JS when set (the file), else plotly.min.js in the vendor dir;
 *   otherwise, for an installed binary (PREFIX/bin/oilcast with PREFIX/share/oilcast/ beside it),
 *   PREFIX/share/oilcast/web for both, and never the source tree; for a binary that is not installed
 *   (a build tree), the source tree's web/ and node_modules/plotly.js-dist-min/. */
char *oc_dashboard_default_web_dir(void);
char *oc_dashboard_default_vendor_dir(void);
char *oc_dashboard_default_plotly_path(void);

/* NULL when web_dir/index.html and vendor_dir/plotly.min.js are both readable files; else one line
 * (malloc'd, no newline) naming the first missing file and how to get it. */
char *oc_dashboard_missing_assets(const char *web_dir, const char *vendor_dir);
/* A small self-contained HTML page (malloc'd) that shows message (escaped) instead of the dashboard. */
char *oc_dashboard_missing_page(const char *message);

typedef struct oc_dashboard_page {
  const char *web_dir;      /* holds index.html and what it links as /static/NAME */
  const char *plotly_path;  /* plotly.min.js, linked by the page as /vendor/plotly.min.js */
  const char *series;       /* display name; NULL: the inputs' "series", else "Historical" */
  const char *source;       /* the series' stored source ("historical", "simulated", ...), which the page
                             * credits; NULL: the inputs' "source", else the page says it is not stated */
} oc_dashboard_page;

/* Renders the self-contained page into out (appended). history and forecast as returned by the
 * loaders; forecast may be NULL. Every script, stylesheet and datum is inlined: the page makes no
 * network request. Same inputs, same bytes (no timestamp is embedded). */
int oc_dashboard_render(const oc_dashboard_page *page, json_t *history, json_t *forecast, oc_buf *out,
                        oc_error *err);

/* A loopback-only HTTP server answering GET / (and /index.html) with one page. */
typedef struct oc_dashboard_server oc_dashboard_server;
/* port 0 picks a free port; *bound_port receives the one in use. html must outlive the server. */
int oc_dashboard_server_start(const char *html, size_t len, uint16_t port, oc_dashboard_server **out,
                              uint16_t *bound_port, oc_error *err);
void oc_dashboard_server_stop(oc_dashboard_server *server);

#endif
