/*
 * sender.c -- the bounded queue of error reports and the thread that sends
 * them to Sentry with libcurl, off the event loop.
 *
 * A worker (or the master) calls report_sender_enqueue() with an event's
 * JSON: it is copied into a ring of REPORT_QUEUE_CAP entries under a mutex
 * held for a memcpy, and the sender thread is woken. When the ring is full,
 * or Sentry told us to back off (429, X-Sentry-Rate-Limits), or the event is
 * sampled out (SENTRY_SAMPLE_RATE), the event is dropped and counted; the
 * counts go to Sentry in a client report with the next envelope, as the
 * SDKs do (in an envelope of their own at a stop or once a minute when no
 * event comes to carry them). Each POST is bounded (2 s to connect, 5 s in all); at a graceful
 * stop the queue is flushed for up to the stop's timeout, then given up.
 *
 * Owns: the ring, the thread, its curl handle.
 * Must never: block the caller (no I/O under the mutex, never waits for room),
 * send without TLS verification, or survive into a forked child holding the
 * parent's lock (pthread_atfork resets the child).
 */
#include "report/report.h"
#include "metrics/metrics.h"
#include "kiln.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

typedef struct item {
    char *json;
    size_t len;
    char id[33];
} item;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;              /* CLOCK_MONOTONIC, set up in start */
static item ring[REPORT_QUEUE_CAP];
static unsigned head, count;
static bool running, stopping, busy;
static uint64_t flush_deadline_ms;     /* stopping: give up at this time  */
static pthread_t thread;
static report_dsn dsn;
static char dsn_text[600];
static double sample_rate = 1.0;
static uint64_t limited_until_ms;      /* rate limited: drop until then    */
static report_drops drops;             /* not yet reported to Sentry       */
static report_settings settings;
static char hostname[256], release_buf[128];

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const report_settings *report_get_settings(void) { return &settings; }

/* ---- fork --------------------------------------------------------------- */

static void atfork_prepare(void) { pthread_mutex_lock(&mu); }
static void atfork_parent(void) { pthread_mutex_unlock(&mu); }
static void atfork_child(void)
{
    /* The sender thread is not in the child: forget its queue (the parent
     * sends it), keep the settings so the child may start its own. */
    for (unsigned i = 0; i < count; i++) free(ring[(head + i) % REPORT_QUEUE_CAP].json);
    head = count = 0;
    running = stopping = busy = false;
    memset(&drops, 0, sizeof drops);
    pthread_mutex_unlock(&mu);
}

/* ---- one POST ------------------------------------------------------------ */

typedef struct reply_headers { unsigned rate_limit; unsigned retry_after; bool has_limits, has_retry; } reply_headers;

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    reply_headers *h = arg;
    size_t len = size * n, l = len;
    while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == '\n')) l--;
    static const char rl[] = "x-sentry-rate-limits:", ra[] = "retry-after:";
    if (l >= sizeof rl - 1 && !strncasecmp(p, rl, sizeof rl - 1)) {
        h->rate_limit = report_parse_rate_limits(p + sizeof rl - 1, l - (sizeof rl - 1));
        h->has_limits = true;
    } else if (l >= sizeof ra - 1 && !strncasecmp(p, ra, sizeof ra - 1)) {
        h->retry_after = report_parse_retry_after(p + sizeof ra - 1, l - (sizeof ra - 1), 60);
        h->has_retry = true;
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg) { (void)p; (void)arg; return size * n; }

/* POST one envelope. Returns the HTTP status (0: no answer). */
static long post(CURL *curl, const buf *env, unsigned timeout_ms, reply_headers *rh)
{
    char auth[400];
    report_auth_header(&dsn, auth, sizeof auth);
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/x-sentry-envelope");
    hdrs = curl_slist_append(hdrs, auth);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, dsn.url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, env->data);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)env->len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 2000 ? timeout_ms : 2000));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "kiln/" KILN_VERSION);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, rh);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    return status;
}

/* ---- the thread ------------------------------------------------------------ */

#define CLIENT_REPORT_EVERY_MS 60000

static bool drops_pending(void)
{
    return drops.queue_overflow || drops.ratelimit_backoff || drops.sample_rate || drops.network_error;
}

/* Called with mu held: when drops are waiting and no event will carry them
 * (nothing queued), send them in an envelope of their own -- at a stop, or
 * once a minute. Returns with mu held. */
static void send_client_report(CURL *curl, unsigned timeout_ms)
{
    if (!curl || !drops_pending() || now_ms() < limited_until_ms) return;
    report_drops d = drops;
    memset(&drops, 0, sizeof drops);
    pthread_mutex_unlock(&mu);
    buf env;
    buf_init(&env, 512);
    report_envelope(&env, NULL, 0, NULL, &settings, &d);
    reply_headers rh = { 0 };
    long status = post(curl, &env, timeout_ms ? timeout_ms : 1, &rh);
    buf_free(&env);
    pthread_mutex_lock(&mu);
    if (status < 200 || status >= 300) {      /* keep them for the next try */
        drops.queue_overflow += d.queue_overflow;
        drops.ratelimit_backoff += d.ratelimit_backoff;
        drops.sample_rate += d.sample_rate;
        drops.network_error += d.network_error;
    }
}

static void *sender_main(void *arg)
{
    (void)arg;
    CURL *curl = curl_easy_init();
    uint64_t last_report = now_ms();
    pthread_mutex_lock(&mu);
    for (;;) {
        while (count == 0 && !stopping) {
            if (!drops_pending()) { pthread_cond_wait(&cv, &mu); continue; }
            uint64_t due = last_report + CLIENT_REPORT_EVERY_MS;
            if (now_ms() >= due) {
                send_client_report(curl, 5000);
                last_report = now_ms();
                continue;
            }
            struct timespec until = { (time_t)(due / 1000), (long)(due % 1000) * 1000000L };
            pthread_cond_timedwait(&cv, &mu, &until);   /* CLOCK_MONOTONIC, like now_ms */
        }
        if (count == 0 && stopping) {
            /* Nothing left to carry the drops: tell Sentry on the way out. */
            uint64_t now = now_ms();
            if (now < flush_deadline_ms) send_client_report(curl, (unsigned)(flush_deadline_ms - now));
            break;
        }
        if (stopping && now_ms() >= flush_deadline_ms) break;
        item it = ring[head];
        head = (head + 1) % REPORT_QUEUE_CAP;
        count--;
        metrics_gauge_set(MG_REPORT_QUEUE, count);
        report_drops d = drops;           /* goes out with this envelope */
        memset(&drops, 0, sizeof drops);
        bool limited = now_ms() < limited_until_ms;
        unsigned timeout = 5000;
        if (stopping) {
            uint64_t left = flush_deadline_ms - now_ms();
            timeout = left < timeout ? (unsigned)left : timeout;
        }
        busy = true;
        pthread_mutex_unlock(&mu);

        long status = 0;
        reply_headers rh = { 0 };
        if (limited) {
            d.ratelimit_backoff++;
        } else if (curl) {
            buf env;
            buf_init(&env, it.len + 512);
            report_envelope(&env, it.json, it.len, it.id, &settings, &d);
            status = post(curl, &env, timeout ? timeout : 1, &rh);
            buf_free(&env);
        }
        free(it.json);

        pthread_mutex_lock(&mu);
        busy = false;
        if (status >= 200 && status < 300) {
            metrics_add(MC_REPORT_SENT, 1);
        } else {
            /* Not sent (or dropped for a rate limit): the client report that
             * would have ridden along waits for the next envelope. */
            drops.queue_overflow += d.queue_overflow;
            drops.ratelimit_backoff += d.ratelimit_backoff;
            drops.sample_rate += d.sample_rate;
            drops.network_error += d.network_error + (status == 0 && !limited);
            if (limited) {
                metrics_add(MC_REPORT_DROPPED, 1);
            } else if (status == 429) {
                drops.ratelimit_backoff++;
                metrics_add(MC_REPORT_DROPPED, 1);
            } else {
                metrics_add(MC_REPORT_FAILED, 1);
            }
        }
        /* Back off as told: X-Sentry-Rate-Limits wins over Retry-After. */
        unsigned wait_s = rh.has_limits ? rh.rate_limit : 0;
        if (!wait_s && status == 429) wait_s = rh.has_retry ? rh.retry_after : 60;
        if (wait_s) limited_until_ms = now_ms() + (uint64_t)wait_s * 1000;
        if (status == 0 && !stopping) {
            /* Down: wait a little before the next try (events keep queueing
             * and overflow meanwhile, counted). */
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&cv, &mu, &until);
        }
        pthread_cond_broadcast(&cv);   /* report_sender_stop may be waiting */
    }
    running = false;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    if (curl) curl_easy_cleanup(curl);
    return NULL;
}

/* ---- the API ------------------------------------------------------------------ */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool curl_ok;

static void global_init(void)
{
    curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void load_settings(const char *dsn_in)
{
    snprintf(dsn_text, sizeof dsn_text, "%s", dsn_in);
    settings.dsn = dsn_text;
    const char *env = getenv("SENTRY_ENVIRONMENT");
    settings.environment = env && *env ? env : "production";
    const char *rel = getenv("SENTRY_RELEASE");
    if (rel && *rel) {
        settings.release = rel;
    } else {
        /* The build's identity: the server binary's name and build time. */
        char exe[512];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        const char *slash = strrchr(exe, '/');
        snprintf(release_buf, sizeof release_buf, "kiln@%s+%s", KILN_VERSION, slash ? slash + 1 : "server");
        settings.release = release_buf;
    }
    if (gethostname(hostname, sizeof hostname) != 0) snprintf(hostname, sizeof hostname, "localhost");
    hostname[sizeof hostname - 1] = '\0';
    settings.server_name = hostname;
}

int report_sender_start(const char *dsn_in, double rate)
{
    pthread_once(&once, global_init);
    if (!curl_ok) return -1;
    pthread_mutex_lock(&mu);
    if (running) { pthread_mutex_unlock(&mu); return 0; }
    if (report_dsn_parse(dsn_in, &dsn) != 0) { pthread_mutex_unlock(&mu); return -1; }
    load_settings(dsn_in);
    sample_rate = rate;
    stopping = false;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    /* The thread takes no signals: the loop's signalfd and crash handlers
     * belong to the main thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&thread, &attr, sender_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    running = rc == 0;
    pthread_mutex_unlock(&mu);
    return rc == 0 ? 0 : -1;
}

static bool sampled_out(void)
{
    if (sample_rate >= 1.0) return false;
    if (sample_rate <= 0.0) return true;
    unsigned r;
    if (getrandom(&r, sizeof r, 0) != sizeof r) return false;
    return (double)r / 4294967296.0 >= sample_rate;
}

bool report_sender_enqueue(const char *json, size_t len, const char *event_id)
{
    if (sampled_out()) {
        pthread_mutex_lock(&mu);
        drops.sample_rate++;
        pthread_cond_signal(&cv);     /* the sender schedules a client report */
        pthread_mutex_unlock(&mu);
        return false;
    }
    char *copy = kiln_xmalloc(len + 1);
    memcpy(copy, json, len);
    copy[len] = '\0';
    pthread_mutex_lock(&mu);
    bool ok = running && !stopping && count < REPORT_QUEUE_CAP && now_ms() >= limited_until_ms;
    if (ok) {
        item *it = &ring[(head + count) % REPORT_QUEUE_CAP];
        it->json = copy;
        it->len = len;
        snprintf(it->id, sizeof it->id, "%s", event_id);
        count++;
        metrics_add(MC_REPORT_QUEUED, 1);
        metrics_gauge_set(MG_REPORT_QUEUE, count);
        pthread_cond_signal(&cv);
    } else if (running) {
        if (now_ms() < limited_until_ms) { drops.ratelimit_backoff++; }
        else { drops.queue_overflow++; }
        metrics_add(MC_REPORT_DROPPED, 1);
        pthread_cond_signal(&cv);
    }
    pthread_mutex_unlock(&mu);
    if (!ok) free(copy);
    return ok;
}

void report_sender_stop(unsigned timeout_ms)
{
    pthread_mutex_lock(&mu);
    if (!running) { pthread_mutex_unlock(&mu); return; }
    stopping = true;
    flush_deadline_ms = now_ms() + timeout_ms;
    pthread_cond_broadcast(&cv);
    /* Wait for the thread to drain (each POST is bounded by what is left). */
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)(timeout_ms + 500) * 1000000ull;
    until.tv_sec += (time_t)(ns / 1000000000ull);
    until.tv_nsec = (long)(ns % 1000000000ull);
    while (running)
        if (pthread_cond_timedwait(&cv, &mu, &until) != 0) break;
    bool done = !running;
    /* Whatever could not go is counted as dropped. */
    metrics_add(MC_REPORT_DROPPED, count);
    for (unsigned i = 0; i < count; i++) free(ring[(head + i) % REPORT_QUEUE_CAP].json);
    head = count = 0;
    pthread_mutex_unlock(&mu);
    if (done) pthread_join(thread, NULL);
    else pthread_detach(thread);
}
