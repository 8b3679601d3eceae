/* sensors.c: the SIMULATED sensor readings of sensors.h. Each device draws from its own generator
 * (core/rng.h, seeded from the seed and its number), so a device's readings do not depend on how many
 * others there are. A reading of device j, number k (from 0), is generated as g = k*N + j at event time
 * start + g/R s; the value of a device of type T on trading day i at hour-of-day h is
 *   v = base_j + lead_T * (ln P(i+L) - ln P(i)) + cycle_T * sin(2 pi h/24 + phase_j)
 *       + drift_j * (days since start) + noise_T * e,      e ~ N(0, 1)
 * clamped into the valid range, with P the simulated WTI price (series 0 of the seed) and L =
 * OC_SENSOR_LEAD_DAYS; then injections: a stuck run repeats the last value, a spike adds 8..15 noise
 * (or cycle) amplitudes, an out-of-range value lands above the range. A late reading is held back
 * 2..20 sending slots, a very late one OC_SENSOR_VERY_LATE_SECONDS of event time. Must not use
 * rand() or the wall clock: the same options give the same readings. */
#include "ingest/sensors.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/date.h"
#include "core/fsutil.h"
#include "core/rng.h"
#include "devices/broker.h"
#include "devices/devices.h"
#include "ingest/simulate.h"

/* How each type behaves: its measurement, its level (a range base_lo..base_hi drawn per device), its
 * response to the coming price change (units per unit of log-price change), its daily cycle and
 * noise, and the sd of its drift per day. */
typedef struct sensor_model {
  const char *type, *measurement;
  double base_lo, base_hi, lead, cycle, noise, drift_sd;
} sensor_model;

static const sensor_model models[] = {
    {"pipeline_pressure", "pressure", 55, 75, 0, 4, 0.4, 0.05},
    {"pipeline_flow", "flow", 1500, 2500, 3000, 150, 20, 2},
    /* inventories draw down before prices rise */
    {"tank_level", "level", 10, 18, -60, 0.3, 0.03, 0.01},
    {"wellhead_temperature", "temperature", 60, 80, 0, 3, 0.3, 0.05},
    /* refineries run harder before prices rise */
    {"refinery_throughput", "throughput", 200000, 300000, 400000, 5000, 1500, 100},
};
#define N_MODELS (sizeof models / sizeof models[0])

/* Shares of readings that get each injection. */
#define STUCK_START_SHARE 0.002
#define SPIKE_SHARE 0.003
#define OUT_OF_RANGE_SHARE 0.0005
#define LATE_SHARE 0.01
#define VERY_LATE_SHARE 0.001
/* The market is simulated this far at most (a run without an end); later readings see no price change. */
#define MARKET_DAYS_MAX 40000.0

typedef struct sim_device {
  oc_rng rng;
  const sensor_model *model;
  const oc_device_type *type;
  double base, phase, drift_per_day;
  int64_t readings; /* generated so far */
  int stuck_left;
  double last_value;
} sim_device;

/* A reading waiting to be sent (late): it goes out once `release` readings were generated. */
typedef struct held_reading {
  int64_t release, generated;
  oc_sensor_sim_reading reading;
} held_reading;

struct oc_sensor_sim {
  oc_sensor_sim_options opt;
  sim_device *devices;
  int64_t generated; /* readings generated so far */
  held_reading *held;
  size_t nheld, held_cap;
  /* the simulated market from the first reading's date: trading days and log prices */
  oc_date *dates;
  double *log_price;
  size_t ndays;
};

static const sensor_model *model_of(size_t index) { return &models[index % N_MODELS]; }

void oc_sensor_sim_device(size_t index, oc_device *d) {
  const sensor_model *m = model_of(index);
  const oc_device_type *t = oc_device_type_find(m->type);
  assert(t);
  memset(d, 0, sizeof *d);
  snprintf(d->id, sizeof d->id, "sim-%04zu", index + 1);
  snprintf(d->site, sizeof d->site, "sim-site-%zu", index / N_MODELS + 1);
  snprintf(d->type, sizeof d->type, "%s", t->name);
  snprintf(d->unit, sizeof d->unit, "%s", t->unit);
  d->valid_min = t->valid_min;
  d->valid_max = t->valid_max;
  d->interval_seconds = t->interval_seconds;
}

oc_sensor_sim *oc_sensor_sim_new(const oc_sensor_sim_options *opt, oc_error *err) {
  if (opt->devices < 1 || opt->devices > 9999) {
    oc_error_set(err, "simulated sensors: %zu devices, expected 1..9999", opt->devices);
    return NULL;
  }
  if (!(opt->rate > 0 && opt->rate <= 1e6) || opt->count < 1 || opt->start_ms < 0 ||
      opt->start_ms >= OC_SENSOR_SIM_START_END_MS) {
    oc_error_set(err, "simulated sensors: rate must be in (0, 1e6] per second, count >= 1, start in 1970..9999");
    return NULL;
  }
  oc_sensor_sim *sim = oc_xcalloc(1, sizeof *sim);
  sim->opt = *opt;
  sim->devices = oc_xcalloc(opt->devices, sizeof *sim->devices);
  for (size_t j = 0; j < opt->devices; j++) {
    sim_device *d = &sim->devices[j];
    oc_rng_seed(&d->rng, opt->seed ^ (0x9E3779B97F4A7C15ull * (j + 1)));
    d->model = model_of(j);
    d->type = oc_device_type_find(d->model->type);
    d->base = d->model->base_lo + (d->model->base_hi - d->model->base_lo) * oc_rng_uniform(&d->rng);
    d->phase = 2 * M_PI * oc_rng_uniform(&d->rng);
    d->drift_per_day = d->model->drift_sd * oc_rng_normal(&d->rng);
  }
  /* the market over the readings' days, and the lead beyond them */
  double span_days = fmin((double)opt->count / opt->rate / 86400.0, MARKET_DAYS_MAX);
  sim->ndays = (size_t)ceil(span_days) + OC_SENSOR_LEAD_DAYS + 8;
  sim->dates = oc_xcalloc(sim->ndays, sizeof *sim->dates);
  sim->log_price = oc_xcalloc(sim->ndays, sizeof *sim->log_price);
  oc_date first = (oc_date)(opt->start_ms / 86400000);
  oc_simulate_series(opt->seed, 0, first, sim->ndays, sim->dates, sim->log_price);
  for (size_t i = 0; i < sim->ndays; i++) sim->log_price[i] = log(sim->log_price[i]);
  return sim;
}

void oc_sensor_sim_free(oc_sensor_sim *sim) {
  if (!sim) return;
  free(sim->devices);
  free(sim->held);
  free(sim->dates);
  free(sim->log_price);
  free(sim);
}

/* ln P(i+L) - ln P(i) for the trading day on or before date (0 before the first one). */
static double coming_price_change(const oc_sensor_sim *sim, oc_date date) {
  size_t lo = 0, hi = sim->ndays; /* the first index whose date is after date */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (sim->dates[mid] <= date) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0 || lo + OC_SENSOR_LEAD_DAYS > sim->ndays) return 0;
  size_t i = lo - 1;
  return sim->log_price[i + OC_SENSOR_LEAD_DAYS] - sim->log_price[i];
}

/* Generates reading number g (device g mod N) with its sending delay in slots (0: on time). */
static void generate(oc_sensor_sim *sim, int64_t g, oc_sensor_sim_reading *r, int64_t *delay) {
  size_t j = (size_t)(g % (int64_t)sim->opt.devices);
  sim_device *d = &sim->devices[j];
  const sensor_model *m = d->model;
  memset(r, 0, sizeof *r);
  r->device_index = j;
  snprintf(r->device, sizeof r->device, "sim-%04zu", j + 1);
  r->type = m->type;
  r->measurement = m->measurement;
  r->unit = d->type->unit;
  r->seq = sim->opt.start_ms * 1000 + ++d->readings;
  r->event_ms = sim->opt.start_ms + (int64_t)llround((double)g * 1000.0 / sim->opt.rate);

  double days = (double)(r->event_ms - sim->opt.start_ms) / 86400000.0;
  double hour = (double)(r->event_ms % 86400000) / 3600000.0;
  double v = d->base + m->lead * coming_price_change(sim, (oc_date)(r->event_ms / 86400000)) +
             m->cycle * sin(2 * M_PI * hour / 24 + d->phase) + d->drift_per_day * days +
             m->noise * oc_rng_normal(&d->rng);
  double lo = d->type->valid_min, hi = d->type->valid_max;
  v = v < lo ? lo : v > hi ? hi : v;
  /* every draw is made for every reading, so one injection never shifts the others' draws */
  double u_stuck = oc_rng_uniform(&d->rng), u_spike = oc_rng_uniform(&d->rng), u_range = oc_rng_uniform(&d->rng);
  double u_late = oc_rng_uniform(&d->rng), spike_size = 8 + 7 * oc_rng_uniform(&d->rng);
  int64_t late_slots = 2 + (int64_t)oc_rng_below(&d->rng, 19);
  int stuck_length = 30 + (int)oc_rng_below(&d->rng, 91);
  if (d->stuck_left > 0) {
    d->stuck_left--;
    v = d->last_value;
    r->injected |= OC_SENSOR_STUCK;
  } else if (d->readings > 1 && u_stuck < STUCK_START_SHARE) {
    d->stuck_left = stuck_length - 1;
    v = d->last_value;
    r->injected |= OC_SENSOR_STUCK;
  } else if (u_spike < SPIKE_SHARE) {
    double size = spike_size * fmax(m->noise, m->cycle);
    v = v + (u_spike < SPIKE_SHARE / 2 ? -size : size);
    v = v < lo ? lo : v > hi ? hi : v;
    r->injected |= OC_SENSOR_SPIKE;
  } else if (u_range < OUT_OF_RANGE_SHARE) {
    v = hi + (hi - lo) * 0.5;
    r->injected |= OC_SENSOR_OUT_OF_RANGE;
  }
  v = round(v * 1000) / 1000;
  if (!(r->injected & (OC_SENSOR_STUCK | OC_SENSOR_OUT_OF_RANGE))) d->last_value = v;
  r->value = v;
  *delay = 0;
  if (u_late < VERY_LATE_SHARE) {
    *delay = (int64_t)ceil(OC_SENSOR_VERY_LATE_SECONDS * sim->opt.rate);
    r->injected |= OC_SENSOR_VERY_LATE;
  } else if (u_late < LATE_SHARE) {
    *delay = late_slots;
    r->injected |= OC_SENSOR_LATE;
  }
}

/* The held readings are a binary min-heap on (release, generated): the one to send first at the top. */
static bool held_before(const held_reading *a, const held_reading *b) {
  return a->release < b->release || (a->release == b->release && a->generated < b->generated);
}

static void held_push(oc_sensor_sim *sim, const held_reading *item) {
  oc_xgrow((void **)&sim->held, &sim->held_cap, sim->nheld + 1, sizeof *sim->held);
  size_t i = sim->nheld++;
  while (i > 0 && held_before(item, &sim->held[(i - 1) / 2])) {
    sim->held[i] = sim->held[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  sim->held[i] = *item;
}

static void held_pop(oc_sensor_sim *sim, oc_sensor_sim_reading *out) {
  assert(sim->nheld > 0);
  *out = sim->held[0].reading;
  held_reading last = sim->held[--sim->nheld];
  size_t i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= sim->nheld) break;
    if (child + 1 < sim->nheld && held_before(&sim->held[child + 1], &sim->held[child])) child++;
    if (!held_before(&sim->held[child], &last)) break;
    sim->held[i] = sim->held[child];
    i = child;
  }
  if (sim->nheld > 0) sim->held[i] = last;
}

bool oc_sensor_sim_next(oc_sensor_sim *sim, oc_sensor_sim_reading *out) {
  for (;;) {
    bool all_generated = sim->generated >= sim->opt.count;
    if (sim->nheld > 0 && (all_generated || sim->held[0].release <= sim->generated)) {
      held_pop(sim, out);
      return true;
    }
    if (all_generated) return false;
    int64_t g = sim->generated++, delay;
    generate(sim, g, out, &delay);
    if (delay == 0) return true;
    held_push(sim, &(held_reading){.release = g + 1 + delay, .generated = g, .reading = *out});
  }
}

void oc_sensor_topic(const oc_sensor_sim_reading *r, char *topic, size_t cap) {
  snprintf(topic, cap, OC_SENSOR_TOPIC_ROOT "/%s/readings", r->device);
}

void oc_sensor_reading_json(const oc_sensor_sim_reading *r, oc_buf *out) {
  static const struct {
    unsigned flag;
    const char *name;
  } injections[] = {{OC_SENSOR_SPIKE, "spike"},
                    {OC_SENSOR_STUCK, "stuck"},
                    {OC_SENSOR_OUT_OF_RANGE, "out_of_range"},
                    {OC_SENSOR_LATE, "late"},
                    {OC_SENSOR_VERY_LATE, "very_late"}};
  int64_t seconds = r->event_ms / 1000;
  char stamp[OC_TIMESTAMP_STRLEN];
  oc_timestamp_format(seconds, stamp);
  stamp[19] = 0; /* drop the Z: milliseconds go before it */
  oc_buf_printf(out,
                "{\"simulated\":true,\"device\":\"%s\",\"type\":\"%s\",\"seq\":%lld,\"event_time\":\"%s.%03dZ\","
                "\"measurements\":{\"%s\":{\"value\":%.3f,\"unit\":\"%s\"}},\"injected\":[",
                r->device, r->type, (long long)r->seq, stamp, (int)(r->event_ms % 1000), r->measurement, r->value,
                r->unit);
  const char *sep = "";
  for (size_t i = 0; i < sizeof injections / sizeof injections[0]; i++) {
    if (!(r->injected & injections[i].flag)) continue;
    oc_buf_printf(out, "%s\"%s\"", sep, injections[i].name);
    sep = ",";
  }
  oc_buf_printf(out, "]}");
}

int oc_sensor_sim_write_file(const oc_sensor_sim_options *opt, const char *path, int64_t *written, oc_error *err) {
  oc_sensor_sim *sim = oc_sensor_sim_new(opt, err);
  if (!sim) return -1;
  char *tmp = NULL;
  int fd = oc_create_temp_sibling(path, &tmp, err);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (fd >= 0 && !f) close(fd);
  int rc = f ? 0 : -1;
  if (fd >= 0 && !f) oc_error_errno(err, "writing %s", tmp);
  oc_buf line = {0};
  oc_sensor_sim_reading r;
  *written = 0;
  while (rc == 0 && oc_sensor_sim_next(sim, &r)) {
    oc_buf_clear(&line);
    oc_sensor_reading_json(&r, &line);
    oc_buf_printf(&line, "\n");
    if (fwrite(line.data, 1, line.len, f) != line.len) rc = oc_error_errno(err, "writing %s", tmp);
    ++*written;
  }
  if (f && (fflush(f) != 0 || fsync(fileno(f)) != 0) && rc == 0) rc = oc_error_errno(err, "writing %s", tmp);
  if (f && fclose(f) != 0 && rc == 0) rc = oc_error_errno(err, "closing %s", tmp);
  if (rc == 0 && rename(tmp, path) != 0) rc = oc_error_errno(err, "renaming %s to %s", tmp, path);
  if (rc == 0) oc_fsync_parent_dir(path);
  else if (tmp) unlink(tmp);
  free(tmp);
  oc_buf_free(&line);
  oc_sensor_sim_free(sim);
  return rc;
}

/* Writes the new devices' credentials file (the registration's before_commit). */
static int write_credentials(void *path, const oc_device *devices, size_t n, const char *secrets, oc_error *err) {
  oc_buf text = {0};
  for (size_t i = 0; i < n; i++) oc_buf_printf(&text, "%s:%s\n", devices[i].id, secrets + i * (OC_DEVICE_SECRET_LEN + 1));
  int rc = oc_secret_file_write(path, text.data, text.len, err);
  memset(text.data, 0, text.len);
  oc_buf_free(&text);
  return rc;
}

int oc_sensor_sim_register(oc_store *store, size_t devices, int64_t interval_seconds, int64_t now,
                           const char *credentials_path, oc_error *err) {
  if (devices < 1 || devices > 9999) return oc_error_set(err, "simulated devices: %zu, expected 1..9999", devices);
  oc_device *list = oc_xcalloc(devices, sizeof *list);
  char *secrets = oc_xcalloc(devices, OC_DEVICE_SECRET_LEN + 1);
  for (size_t i = 0; i < devices; i++) {
    oc_sensor_sim_device(i, &list[i]);
    if (interval_seconds > 0) list[i].interval_seconds = interval_seconds;
  }
  int rc = oc_device_register_all(store, list, devices, now, secrets, write_credentials, (void *)credentials_path, err);
  memset(secrets, 0, devices * (OC_DEVICE_SECRET_LEN + 1));
  free(secrets);
  free(list);
  return rc;
}
