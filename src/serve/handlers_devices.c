/* handlers_devices.c: the device registry over HTTP (admin scope): GET /v1/devices, POST /v1/devices
 * (answers with the new device's broker password, once), DELETE /v1/devices/{id} (revokes). After a
 * change the broker directory DATA_DIR/broker, when `oilcast broker config` wrote one there, gets new
 * passwd and acl files and its running broker a SIGHUP (src/devices/broker.h), as the CLI does. HTTP
 * only: the work is in src/devices/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "devices/broker.h"
#include "devices/devices.h"
#include "serve/context.h"
#include "serve/handlers.h"

/* {"synced": bool, "reloaded": bool} after keeping DATA_DIR/broker in step; the registry change is
 * done already, so a failure is reported in the object ("error") rather than as the request's status. */
static json_t *sync_broker(const oc_request *req, oc_store *store) {
  char *dir = oc_broker_default_dir(req->server->data_dir);
  bool synced = false;
  oc_broker_written written;
  oc_error err;
  json_t *broker;
  if (oc_broker_sync_if_configured(store, dir, &synced, &written, &err) != 0)
    broker = json_pack("{s:b, s:b, s:s}", "synced", 0, "reloaded", 0, "error", err.message);
  else broker = json_pack("{s:b, s:b}", "synced", synced, "reloaded", synced && written.reloaded);
  free(dir);
  return broker;
}

void oc_handle_devices_list(const oc_request *req, oc_response *resp) {
  const char *all = oc_request_query(req, "all");
  if (all && strcmp(all, "true") != 0 && strcmp(all, "false") != 0) {
    oc_respond_error(resp, 400, "invalid_parameter", "all must be true or false, not '%s'", all);
    return;
  }
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  oc_device *rows = NULL;
  size_t n = 0;
  oc_error err;
  int rc = oc_store_device_list(store, all && strcmp(all, "true") == 0, &rows, &n, &err);
  oc_serve_store_release(req->server, store);
  if (rc != 0) {
    oc_serve_store_failed(req->server, resp, "device_list", &err);
    return;
  }
  json_t *list = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(list, oc_device_to_json(&rows[i]));
  free(rows);
  oc_respond_json(resp, 200, json_pack("{s:o}", "devices", list));
}

/* Copies the string member name of body into out (cap bytes); false (resp filled, 422) when it is
 * there but not a string that fits. */
static bool string_field(json_t *body, const char *name, char *out, size_t cap, oc_response *resp) {
  json_t *v = json_object_get(body, name);
  if (!v) return true;
  if (!json_is_string(v) || json_string_length(v) >= cap) {
    oc_respond_error(resp, 422, "invalid_device", "%s must be a string of at most %zu bytes", name, cap - 1);
    return false;
  }
  snprintf(out, cap, "%s", json_string_value(v));
  return true;
}

/* The device the body describes, with the type's defaults; false with resp filled (422) when a field
 * is missing, of the wrong type, or not a valid device. */
static bool device_from_body(json_t *body, oc_device *d, oc_response *resp) {
  static const char *const known[] = {"id", "type", "site", "unit", "valid_min", "valid_max", "interval_seconds", NULL};
  const char *unknown = oc_json_unknown_member(body, known);
  if (unknown) {
    oc_respond_error(resp, 422, "invalid_device", "unknown field '%s'", unknown);
    return false;
  }
  memset(d, 0, sizeof *d);
  if (!json_is_string(json_object_get(body, "id")) || !json_is_string(json_object_get(body, "type"))) {
    oc_respond_error(resp, 422, "invalid_device", "id and type are required strings");
    return false;
  }
  if (!string_field(body, "id", d->id, sizeof d->id, resp) || !string_field(body, "type", d->type, sizeof d->type, resp) ||
      !string_field(body, "site", d->site, sizeof d->site, resp) || !string_field(body, "unit", d->unit, sizeof d->unit, resp))
    return false;
  json_t *min = json_object_get(body, "valid_min"), *max = json_object_get(body, "valid_max");
  json_t *interval = json_object_get(body, "interval_seconds");
  if (!min != !max || (min && (!json_is_number(min) || !json_is_number(max)))) {
    oc_respond_error(resp, 422, "invalid_device", "valid_min and valid_max go together, as numbers");
    return false;
  }
  if (interval && (!json_is_integer(interval) || json_integer_value(interval) < 1)) {
    oc_respond_error(resp, 422, "invalid_device", "interval_seconds must be a whole number >= 1");
    return false;
  }
  if (min) d->valid_min = json_number_value(min), d->valid_max = json_number_value(max);
  if (interval) d->interval_seconds = json_integer_value(interval);
  oc_device_apply_defaults(d);
  snprintf(d->password_hash, sizeof d->password_hash, "$7$"); /* set by the registration; checked here only */
  const char *reason;
  if (oc_device_check(d, &reason) != 0 || strcmp(d->id, OC_BROKER_SUBSCRIBER_USER) == 0) {
    oc_respond_error(resp, 422, "invalid_device", "device '%s': %s", d->id,
                     strcmp(d->id, OC_BROKER_SUBSCRIBER_USER) == 0 ? "the id is reserved for the oilcast subscriber"
                                                                   : reason);
    return false;
  }
  return true;
}

void oc_handle_device_add(const oc_request *req, oc_response *resp) {
  json_t *body = oc_request_json_object(req, resp);
  if (!body) return;
  oc_device d;
  bool valid = device_from_body(body, &d, resp);
  json_decref(body);
  if (!valid) return;
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  char secret[OC_DEVICE_SECRET_LEN + 1];
  oc_error err;
  if (oc_device_register(store, &d, (int64_t)time(NULL), secret, &err) != 0) {
    if (err.kind == OC_ERROR_CONFLICT) oc_respond_error(resp, 409, "device_exists", "%s", err.message);
    else oc_serve_store_failed(req->server, resp, "device_put", &err);
  } else {
    oc_respond_json(resp, 201, json_pack("{s:o, s:s, s:o}", "device", oc_device_to_json(&d), "password", secret,
                                         "broker", sync_broker(req, store)));
    memset(secret, 0, sizeof secret);
  }
  oc_serve_store_release(req->server, store);
}

void oc_handle_device_revoke(const oc_request *req, oc_response *resp) {
  const char *id = oc_route_param(&req->params, "id");
  oc_store *store = oc_serve_store_acquire(req->server, resp);
  if (!store) return;
  bool found = false;
  oc_device d;
  oc_error err;
  if (oc_store_device_revoke(store, id, (int64_t)time(NULL), &found, &err) != 0 ||
      (found && oc_store_device_get(store, id, &d, &found, &err) != 0)) {
    oc_serve_store_failed(req->server, resp, "device_revoke", &err);
  } else if (!found) {
    oc_respond_error(resp, 404, "not_found", "no device with id '%s'", id);
  } else {
    oc_respond_json(resp, 200, json_pack("{s:o, s:o}", "device", oc_device_to_json(&d), "broker", sync_broker(req, store)));
  }
  oc_serve_store_release(req->server, store);
}
