/* dashboard_static.c: `oilcast dashboard`'s library side: validating the history and forecast JSON
 * files, inlining web/index.html's stylesheet and scripts plus plotly.js and the data into one HTML
 * page, and a minimal loopback server for that page; also where the dashboard's files are (installed
 * prefix or source tree) and what to say when one is missing, which `oilcast serve` asks too. The
 * page itself (web/app.js) decides what to draw; this file must not know about charts, and must not
 * touch the store or the REST server. */
#include "serve/dashboard_static.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/calendar.h"
#include "core/fsutil.h"
#include "core/json.h"
#include "serve/mhd_lazy.h"

/* ---------- reading and validating the inputs ---------- */

static int load_json(const char *path, json_t **out, oc_error *err) {
  char *text;
  size_t len;
  if (oc_read_file(path, &text, &len, err) < 0) return -1;
  json_error_t jerr;
  *out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  free(text);
  if (!*out) {
    return oc_error_set(err, "%s:%d:%d (byte %d): invalid JSON: %s", path, jerr.line, jerr.column, jerr.position,
                        jerr.text);
  }
  return 0;
}

/* A finite number from member name of item (1-based index for messages); *present says whether it
 * was there at all (null counts as absent). */
static int optional_number(const char *path, size_t item, json_t *obj, const char *name, double *value,
                           bool *present, oc_error *err) {
  json_t *v = json_object_get(obj, name);
  *present = v && !json_is_null(v);
  if (!*present) return 0;
  if (!json_is_number(v)) return oc_error_set(err, "%s: item %zu: \"%s\" must be a number", path, item, name);
  *value = json_number_value(v);
  if (!isfinite(*value)) return oc_error_set(err, "%s: item %zu: \"%s\" is not finite", path, item, name);
  return 0;
}

/* The price of a point: "price" or "value", exactly one of them. */
static int point_price(const char *path, size_t item, json_t *obj, double *price, oc_error *err) {
  double from_price = 0, from_value = 0;
  bool has_price, has_value;
  if (optional_number(path, item, obj, "price", &from_price, &has_price, err) < 0) return -1;
  if (optional_number(path, item, obj, "value", &from_value, &has_value, err) < 0) return -1;
  if (has_price == has_value) {
    return oc_error_set(err, "%s: item %zu: needs a \"price\" (or \"value\") number%s", path, item,
                        has_price ? ", not both" : "");
  }
  *price = has_price ? from_price : from_value;
  return 0;
}

/* The "date" of item, strictly after *previous (OC_DATE_INVALID for the first item). */
static int point_date(const char *path, size_t item, json_t *obj, oc_date *previous, oc_date *date, oc_error *err) {
  json_t *v = json_object_get(obj, "date");
  if (!json_is_string(v)) return oc_error_set(err, "%s: item %zu: needs a \"date\" string (YYYY-MM-DD)", path, item);
  const char *reason = NULL;
  if (oc_date_parse(json_string_value(v), json_string_length(v), date, &reason) < 0) {
    return oc_error_set(err, "%s: item %zu: \"date\" '%s': %s", path, item, json_string_value(v), reason);
  }
  if (*previous != OC_DATE_INVALID && *date <= *previous) {
    char prev[OC_DATE_STRLEN];
    return oc_error_set(err, "%s: item %zu: date %s is not after the previous item's %s (dates must ascend)", path,
                        item, json_string_value(v), oc_date_format(*previous, prev));
  }
  *previous = *date;
  return 0;
}

static json_t *date_value(oc_date date) {
  char text[OC_DATE_STRLEN];
  return json_string(oc_date_format(date, text));
}

static int history_items(const char *path, json_t *items, oc_date start_date, json_t *observations, oc_error *err) {
  if (!json_is_array(items) || json_array_size(items) == 0) {
    return oc_error_set(err, "%s: the history must be a non-empty array of numbers or of {\"date\",\"price\"} objects",
                        path);
  }
  bool bare = json_is_number(json_array_get(items, 0));
  if (bare && start_date == OC_DATE_INVALID) {
    return oc_error_set(err, "%s: a bare array of prices needs --start-date (the date of the first price)", path);
  }
  oc_date cursor = bare ? oc_calendar_trading_day_on_or_after(start_date) : 0;
  oc_date previous = OC_DATE_INVALID;
  size_t index;
  json_t *item;
  json_array_foreach(items, index, item) {
    size_t n = index + 1;
    oc_date date;
    double price;
    if (bare) {
      if (!json_is_number(item)) return oc_error_set(err, "%s: item %zu: not a number (item 1 is one)", path, n);
      price = json_number_value(item);
      if (!isfinite(price)) return oc_error_set(err, "%s: item %zu: price is not finite", path, n);
      date = cursor;
      cursor = oc_calendar_next_trading_day(cursor);
    } else {
      if (!json_is_object(item)) return oc_error_set(err, "%s: item %zu: not an object (item 1 is one)", path, n);
      if (point_date(path, n, item, &previous, &date, err) < 0 || point_price(path, n, item, &price, err) < 0) return -1;
    }
    json_array_append_new(observations, json_pack("{s:o,s:f}", "date", date_value(date), "value", price));
  }
  return 0;
}

int oc_dashboard_load_history(const char *path, oc_date start_date, json_t **out, oc_error *err) {
  json_t *root;
  if (load_json(path, &root, err) < 0) return -1;
  json_t *items = root;
  json_t *result = json_object();
  if (json_is_object(root)) {
    items = json_object_get(root, "observations");
    static const char *const kept[] = {"series", "source"};
    for (size_t k = 0; k < sizeof kept / sizeof *kept; k++) {
      json_t *text = json_object_get(root, kept[k]);
      if (json_is_string(text)) json_object_set(result, kept[k], text);
    }
  }
  json_t *observations = json_array();
  json_object_set_new(result, "observations", observations);
  int rc = history_items(path, items, start_date, observations, err);
  json_decref(root);
  if (rc < 0) {
    json_decref(result);
    return -1;
  }
  *out = result;
  return 0;
}

/* Copies lowerNN/upperNN into point when present; both or neither; lower <= upper. */
static int interval(const char *path, size_t item, json_t *obj, int level, json_t *point, double bounds[2],
                    bool *present, oc_error *err) {
  char lower_name[16], upper_name[16];
  snprintf(lower_name, sizeof lower_name, "lower%d", level);
  snprintf(upper_name, sizeof upper_name, "upper%d", level);
  bool has_lower, has_upper;
  if (optional_number(path, item, obj, lower_name, &bounds[0], &has_lower, err) < 0) return -1;
  if (optional_number(path, item, obj, upper_name, &bounds[1], &has_upper, err) < 0) return -1;
  if (has_lower != has_upper) {
    return oc_error_set(err, "%s: item %zu: \"%s\" and \"%s\" come together (one is missing)", path, item,
                        lower_name, upper_name);
  }
  *present = has_lower;
  if (!*present) return 0;
  if (bounds[0] > bounds[1]) {
    return oc_error_set(err, "%s: item %zu: %s %g is above %s %g", path, item, lower_name, bounds[0], upper_name,
                        bounds[1]);
  }
  json_object_set_new(point, lower_name, oc_json_number(bounds[0]));
  json_object_set_new(point, upper_name, oc_json_number(bounds[1]));
  return 0;
}

static int forecast_point(const char *path, size_t n, json_t *item, oc_date *previous, json_t *points, oc_error *err) {
  if (!json_is_object(item)) return oc_error_set(err, "%s: item %zu: not an object", path, n);
  oc_date date;
  double price;
  if (point_date(path, n, item, previous, &date, err) < 0 || point_price(path, n, item, &price, err) < 0) return -1;
  json_t *point = json_pack("{s:o,s:f}", "date", date_value(date), "price", price);
  json_array_append_new(points, point);
  double b80[2], b95[2];
  bool has80, has95;
  if (interval(path, n, item, 80, point, b80, &has80, err) < 0) return -1;
  if (interval(path, n, item, 95, point, b95, &has95, err) < 0) return -1;
  if (has80 && has95 && (b95[0] > b80[0] || b95[1] < b80[1])) {
    return oc_error_set(err, "%s: item %zu: the 95%% interval [%g, %g] does not contain the 80%% one [%g, %g]", path,
                        n, b95[0], b95[1], b80[0], b80[1]);
  }
  return 0;
}

int oc_dashboard_load_forecast(const char *path, json_t **out, oc_error *err) {
  json_t *root;
  if (load_json(path, &root, err) < 0) return -1;
  json_t *result = json_object();
  json_t *items = root;
  if (json_is_object(root)) {
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
      if (json_is_string(value) || json_is_number(value)) json_object_set(result, key, value);
    }
    items = json_object_get(root, "points");
    if (!items) items = json_object_get(root, "forecast");
  }
  json_t *points = json_array();
  json_object_set_new(result, "points", points);
  int rc = 0;
  if (!json_is_array(items) || json_array_size(items) == 0) {
    rc = oc_error_set(err, "%s: the forecast must be a non-empty array of {\"date\",\"price\",...} points, or an "
                           "object with such a \"points\" (or \"forecast\") array", path);
  }
  oc_date previous = OC_DATE_INVALID;
  for (size_t i = 0; rc == 0 && i < json_array_size(items); i++) {
    rc = forecast_point(path, i + 1, json_array_get(items, i), &previous, points, err);
  }
  json_decref(root);
  if (rc < 0) {
    json_decref(result);
    return -1;
  }
  *out = result;
  return 0;
}

/* ---------- assets ---------- */

/* PREFIX/share/oilcast when this binary is PREFIX/bin/oilcast of an installed tree, else NULL. */
static char *installed_share_dir(void) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return NULL;
  exe[n] = '\0';
  char *bin_dir = dirname(exe); /* PREFIX/bin */
  char *prefix = oc_xstrdup(bin_dir);
  char *share = oc_path_join(dirname(prefix), "share/oilcast");
  free(prefix);
  if (oc_is_dir(share)) return share;
  free(share);
  return NULL;
}

/* $env when set, else installed_relative under PREFIX/share/oilcast for an installed binary, else
 * source_relative under the source tree. */
static char *asset_path_for(const char *env, const char *installed_relative, const char *source_relative) {
  const char *value = env ? getenv(env) : NULL;
  if (value && *value) return oc_xstrdup(value);
  char *share = installed_share_dir();
  if (share) {
    char *path = oc_path_join(share, installed_relative);
    free(share);
    return path;
  }
  return oc_path_join(OILCAST_SOURCE_DIR, source_relative);
}

char *oc_dashboard_default_web_dir(void) { return asset_path_for("OILCAST_WEB_DIR", "web", "web"); }

char *oc_dashboard_default_vendor_dir(void) {
  return asset_path_for(NULL, "web", "node_modules/plotly.js-dist-min");
}

char *oc_dashboard_default_plotly_path(void) {
  const char *value = getenv("OILCAST_PLOTLY_JS");
  if (value && *value) return oc_xstrdup(value);
  char *vendor_dir = oc_dashboard_default_vendor_dir();
  char *path = oc_path_join(vendor_dir, "plotly.min.js");
  free(vendor_dir);
  return path;
}

static bool readable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

char *oc_dashboard_missing_assets(const char *web_dir, const char *vendor_dir) {
  static const struct {
    const char *name, *remedy;
  } assets[] = {
      {"index.html", "the dashboard's page (web/ in the source tree): reinstall oilcast or pass --web-dir"},
      {"plotly.min.js", "plotly.js from npm: run `npm ci` (scripts/deps.sh) in the source tree and rebuild and "
                        "reinstall, or pass --vendor-dir DIR holding plotly.min.js"},
  };
  const char *dirs[] = {web_dir, vendor_dir};
  for (size_t i = 0; i < sizeof assets / sizeof *assets; i++) {
    char *path = oc_path_join(dirs[i], assets[i].name);
    if (!readable_file(path)) {
      oc_buf line = {0};
      oc_buf_printf(&line, "dashboard unavailable: %s is missing; it is %s", path, assets[i].remedy);
      free(path);
      return oc_buf_steal(&line);
    }
    free(path);
  }
  return NULL;
}

char *oc_dashboard_missing_page(const char *message) {
  oc_buf page = {0};
  oc_buf_puts(&page, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>oilcast: dashboard "
                     "unavailable</title></head>\n<body><h1>oilcast: dashboard unavailable</h1>\n<p id=\"missing\">");
  for (const char *c = message; *c; c++) {
    switch (*c) {
    case '<': oc_buf_puts(&page, "&lt;"); break;
    case '>': oc_buf_puts(&page, "&gt;"); break;
    case '&': oc_buf_puts(&page, "&amp;"); break;
    case '"': oc_buf_puts(&page, "&quot;"); break;
    default: oc_buf_append(&page, c, 1);
    }
  }
  oc_buf_puts(&page, "</p>\n<p>The REST API under /v1/ works without it.</p>\n</body></html>\n");
  return oc_buf_steal(&page);
}

/* ---------- rendering ---------- */

/* Appends script text so that nothing in it can end the <script> element or switch the HTML parser
 * into its "escaped" script states: "<!--", "<script" and "</script" get their '<' written as \x3C,
 * which means the same inside JavaScript strings and regular expressions (the only places they occur). */
static void append_script_text(oc_buf *out, const char *text, size_t len) {
  static const char *const hazards[] = {"<!--", "<script", "</script"};
  size_t start = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] != '<') continue;
    for (size_t h = 0; h < sizeof hazards / sizeof *hazards; h++) {
      size_t hl = strlen(hazards[h]);
      if (len - i >= hl && strncasecmp(text + i, hazards[h], hl) == 0) {
        oc_buf_append(out, text + start, i - start);
        oc_buf_puts(out, "\\x3C");
        start = i + 1;
        break;
      }
    }
  }
  oc_buf_append(out, text + start, len - start);
}

/* The file behind a URL the page links: /vendor/plotly.min.js or /static/NAME (a plain file name). */
static char *asset_path(const oc_dashboard_page *page, const char *url, size_t url_len, oc_error *err) {
  static const char vendor[] = "/vendor/plotly.min.js", stat[] = "/static/";
  if (url_len == sizeof vendor - 1 && memcmp(url, vendor, url_len) == 0) return oc_xstrdup(page->plotly_path);
  if (url_len > sizeof stat - 1 && memcmp(url, stat, sizeof stat - 1) == 0) {
    const char *name = url + sizeof stat - 1;
    size_t name_len = url_len - (sizeof stat - 1);
    if (!memchr(name, '/', name_len) && name[0] != '.') {
      char *file = oc_xmalloc(name_len + 1);
      memcpy(file, name, name_len);
      file[name_len] = '\0';
      char *path = oc_path_join(page->web_dir, file);
      free(file);
      return path;
    }
  }
  oc_error_set(err, "%s/index.html links '%.*s', which a static export cannot inline (only /static/NAME and %s)",
               page->web_dir, (int)url_len, url, vendor);
  return NULL;
}

static int append_asset(const oc_dashboard_page *page, const char *url, size_t url_len, bool script, oc_buf *out,
                        oc_error *err) {
  char *path = asset_path(page, url, url_len, err);
  if (!path) return -1;
  char *text;
  size_t len;
  int rc = oc_read_file(path, &text, &len, err);
  if (rc == 0) {
    if (script) {
      oc_buf_puts(out, "<script>");
      append_script_text(out, text, len);
      oc_buf_puts(out, "</script>");
    } else if (strcasestr(text, "</style")) {
      rc = oc_error_set(err, "%s: contains '</style', which would end the inlined stylesheet", path);
    } else {
      oc_buf_puts(out, "<style>\n");
      oc_buf_append(out, text, len);
      oc_buf_puts(out, "</style>");
    }
    free(text);
  } else {
    oc_error_prefix(err, "inlining %.*s: ", (int)url_len, url);
  }
  free(path);
  return rc;
}

/* A string member of the history, else of the forecast (NULL when neither has it). */
static const char *input_string(json_t *history, json_t *forecast, const char *key) {
  json_t *value = json_object_get(history, key);
  if (!json_is_string(value) && forecast) value = json_object_get(forecast, key);
  return json_is_string(value) ? json_string_value(value) : NULL;
}

static void append_data_script(const oc_dashboard_page *page, json_t *history, json_t *forecast, oc_buf *out) {
  const char *name = page->series ? page->series : input_string(history, forecast, "series");
  const char *source = page->source ? page->source : input_string(history, forecast, "source");
  json_t *data = json_pack("{s:s,s:s,s:O,s:O}", "series", name ? name : "Historical", "unit", "USD/bbl",
                           "observations", json_object_get(history, "observations"), "forecast",
                           forecast ? forecast : json_null());
  /* No source stated is said so on the page; it is never guessed. */
  if (source) json_object_set_new(data, "source", json_string(source));
  char *text = oc_json_dumps(data, OC_JSON_COMPACT | OC_JSON_ESCAPE_SLASH);
  json_decref(data);
  oc_buf_puts(out, "<script>window.OILCAST_STATIC = ");
  append_script_text(out, text, strlen(text));
  oc_buf_puts(out, ";</script>\n");
  free(text);
}

/* Copies index.html to out, replacing each <link rel="stylesheet" href="URL"> and
 * <script src="URL"></script> with the inlined file, and putting the data just before </head>. */
int oc_dashboard_render(const oc_dashboard_page *page, json_t *history, json_t *forecast, oc_buf *out,
                        oc_error *err) {
  static const char link_open[] = "<link rel=\"stylesheet\" href=\"", link_close[] = "\">";
  static const char script_open[] = "<script src=\"", script_close[] = "\"></script>";
  static const char head_close[] = "</head>";
  char *index_path = oc_path_join(page->web_dir, "index.html");
  char *html;
  size_t len;
  int rc = oc_read_file(index_path, &html, &len, err);
  free(index_path);
  if (rc < 0) return -1;
  const char *pos = html;
  bool data_written = false;
  while (rc == 0) {
    const char *link = strstr(pos, link_open), *script = strstr(pos, script_open), *head = strstr(pos, head_close);
    const char *next = link;
    if (script && (!next || script < next)) next = script;
    if (head && !data_written && (!next || head < next)) next = head;
    if (!next) break;
    oc_buf_append(out, pos, (size_t)(next - pos));
    if (next == head && !data_written) {
      append_data_script(page, history, forecast, out);
      oc_buf_puts(out, head_close);
      data_written = true;
      pos = next + sizeof head_close - 1;
      continue;
    }
    bool is_script = next == script;
    const char *url = next + (is_script ? sizeof script_open : sizeof link_open) - 1;
    const char *close = strstr(url, is_script ? script_close : link_close);
    if (!close) {
      rc = oc_error_set(err, "%s/index.html: unterminated %s at byte %td", page->web_dir, is_script ? "<script>" : "<link>",
                        next - html);
      break;
    }
    rc = append_asset(page, url, (size_t)(close - url), is_script, out, err);
    pos = close + (is_script ? sizeof script_close : sizeof link_close) - 1;
  }
  if (rc == 0 && !data_written) rc = oc_error_set(err, "%s/index.html has no </head> to put the data before", page->web_dir);
  if (rc == 0) oc_buf_puts(out, pos);
  free(html);
  return rc;
}

/* ---------- serving the page on loopback ---------- */

struct oc_dashboard_server {
  struct MHD_Daemon *daemon;
  const char *html;
  size_t len;
};

static enum MHD_Result queue_text(struct MHD_Connection *connection, unsigned status, const char *type,
                                  const char *body, size_t len) {
  struct MHD_Response *response = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
  enum MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **request_state) {
  static const char not_found[] = "not found: this server only serves the dashboard at /\n";
  static const char not_allowed[] = "method not allowed: GET or HEAD\n";
  const oc_dashboard_server *server = cls;
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
    return queue_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", not_allowed,
                      sizeof not_allowed - 1);
  }
  if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0) {
    return queue_text(connection, MHD_HTTP_OK, "text/html; charset=utf-8", server->html, server->len);
  }
  return queue_text(connection, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", not_found, sizeof not_found - 1);
}

int oc_dashboard_server_start(const char *html, size_t len, uint16_t port, oc_dashboard_server **out,
                              uint16_t *bound_port, oc_error *err) {
  oc_dashboard_server *server = oc_xcalloc(1, sizeof *server);
  server->html = html;
  server->len = len;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  server->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, port, NULL, NULL, answer, server,
                                    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned)30, MHD_OPTION_END);
  if (!server->daemon) {
    free(server);
    return oc_error_set(err, "cannot listen on 127.0.0.1:%u (port in use?)", (unsigned)port);
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
  *bound_port = info && info->port ? info->port : port;
  *out = server;
  return 0;
}

void oc_dashboard_server_stop(oc_dashboard_server *server) {
  if (!server) return;
  MHD_stop_daemon(server->daemon);
  free(server);
}
