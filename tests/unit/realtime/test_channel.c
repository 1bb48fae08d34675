/*
 * test_channel.c -- channel.c: the subscription table (delivery, unsubscribe
 * inside a delivery, no growth after 10,000 cycles), the machine ring
 * (order, events from another process, a stalled reader losing events
 * instead of anyone buffering them, the size limit).
 */
#include "t.h"
#include "realtime/channel.h"
#include "runtime/engine.h"

#include <malloc.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char got[8192];
static int ngot;

static void record(void *ctx, kiln_str ch, kiln_str ev, kiln_str data)
{
    size_t l = strlen(got);
    snprintf(got + l, sizeof got - l, "%s:%.*s/%.*s=%.*s;", (const char *)ctx, (int)ch.len, ch.ptr,
             (int)ev.len, ev.ptr, (int)data.len, data.ptr);
    ngot++;
}

static void pump(loop *l)
{
    for (int i = 0; i < 5; i++) loop_run_once(l, 20);
}

TEST(local_delivery_and_order)
{
    loop *l = loop_new();
    channel_attach(l);
    got[0] = 0;
    channel_sub *a = channel_subscribe("posts", record, "a");
    channel_sub *b = channel_subscribe("posts", record, "b");
    channel_sub *c = channel_subscribe("other", record, "c");
    CHECK_EQ_INT(channel_local_count("posts"), 2);
    kiln_publish("posts", "post.created", "{\"id\":1}");
    kiln_publish("other", "x", NULL);
    kiln_publish("posts", "post.deleted", "{\"id\":1}");
    pump(l);
    CHECK_EQ_STR(got, "b:posts/post.created={\"id\":1};a:posts/post.created={\"id\":1};"
                      "c:other/x=null;b:posts/post.deleted={\"id\":1};a:posts/post.deleted={\"id\":1};");
    channel_unsubscribe(a);
    channel_unsubscribe(b);
    channel_unsubscribe(c);
    CHECK_EQ_INT(channel_local_subs(), 0);
    channel_detach();
    loop_free(l);
}

static channel_sub *victims[3];
static void unsub_all(void *ctx, kiln_str ch, kiln_str ev, kiln_str data)
{
    record(ctx, ch, ev, data);
    for (int i = 0; i < 3; i++) if (victims[i]) { channel_unsubscribe(victims[i]); victims[i] = NULL; }
}

TEST(unsubscribe_inside_delivery)
{
    loop *l = loop_new();
    channel_attach(l);
    got[0] = 0;
    ngot = 0;
    victims[0] = channel_subscribe("c", record, "x");
    victims[1] = channel_subscribe("c", unsub_all, "k");   /* removes x, itself and y */
    victims[2] = channel_subscribe("c", record, "y");
    kiln_publish("c", "e", "1");
    pump(l);
    CHECK_EQ_STR(got, "y:c/e=1;k:c/e=1;");
    CHECK_EQ_INT(channel_local_subs(), 0);
    kiln_publish("c", "e", "2");
    pump(l);
    CHECK_EQ_INT(ngot, 2);
    channel_detach();
    loop_free(l);
}

TEST(ten_thousand_cycles_do_not_grow)
{
    loop *l = loop_new();
    channel_attach(l);
    char name[32];
    struct mallinfo2 before = { 0 };
    for (int round = 0; round < 2; round++) {
        if (round == 1) before = mallinfo2();
        for (int i = 0; i < 10000; i++) {
            snprintf(name, sizeof name, "ch-%d", i % 97);
            channel_sub *s = channel_subscribe(name, record, "z");
            channel_sub *t = channel_subscribe("shared", record, "z");
            channel_unsubscribe(s);
            channel_unsubscribe(t);
        }
    }
    struct mallinfo2 after = mallinfo2();
    CHECK_EQ_INT(channel_local_subs(), 0);
    CHECK(after.uordblks <= before.uordblks + 1024);
    channel_detach();
    loop_free(l);
}

TEST(events_from_another_process_in_order)
{
    loop *l = loop_new();
    channel_attach(l);
    got[0] = 0;
    ngot = 0;
    channel_sub *s = channel_subscribe("n", record, "p");
    pid_t pid = fork();
    if (pid == 0) {
        char d[16];
        for (int i = 0; i < 200; i++) { snprintf(d, sizeof d, "%d", i); kiln_publish("n", "e", d); }
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    pump(l);
    CHECK_EQ_INT(ngot, 200);
    /* In order: p:n/e=0; p:n/e=1; ... */
    char want[8192] = "", one[32];
    for (int i = 0; i < 200; i++) { snprintf(one, sizeof one, "p:n/e=%d;", i); strcat(want, one); }
    CHECK_EQ_STR(got, want);
    channel_unsubscribe(s);
    channel_detach();
    loop_free(l);
}

TEST(stalled_reader_loses_events_not_memory)
{
    loop *l = loop_new();
    channel_attach(l);
    ngot = 0;
    channel_stats st0, st1;
    channel_stats_get(&st0);
    channel_sub *s = channel_subscribe("big", record, "q");
    /* Write two rings' worth without reading (the default ring is 4 MiB). */
    char *data = malloc(64 * 1024 + 1);
    memset(data, 'x', 64 * 1024);
    data[0] = '"'; data[64 * 1024 - 1] = '"'; data[64 * 1024] = 0;
    for (int i = 0; i < 130; i++) kiln_publish("big", "e", data);
    got[0] = 0;
    pump(l);
    channel_stats_get(&st1);
    CHECK(st1.lost > st0.lost);
    CHECK(ngot < 130);
    CHECK_EQ_INT((long long)(st1.lost - st0.lost) + ngot, 130);
    /* Caught up: the next event arrives. */
    ngot = 0;
    kiln_publish("big", "e", "1");
    pump(l);
    CHECK_EQ_INT(ngot, 1);
    /* Too big: refused, counted. */
    char *huge = malloc(2 << 20);
    memset(huge, '1', (2 << 20) - 1);
    huge[(2 << 20) - 1] = 0;
    kiln_publish("big", "e", huge);
    channel_stats_get(&st1);
    CHECK_EQ_INT(st1.too_big, st0.too_big + 1);
    free(huge);
    free(data);
    channel_unsubscribe(s);
    channel_detach();
    loop_free(l);
}

/* channel_event_serial: one number per event, the same for every subscriber
 * called with it (subscribe.c frames an event once by it), a new one for the
 * next event, and the outer event's back after a delivery nested in a
 * subscriber's call. */
#include "realtime/bridge.h"
static uint64_t serials_seen[8];
static int nserials;
static void note_serial(void *ctx, kiln_str ch, kiln_str ev, kiln_str data)
{
    (void)ch; (void)data;
    serials_seen[nserials++] = channel_event_serial();
    if (ctx && ev.len == 5 && memcmp(ev.ptr, "outer", 5) == 0) {
        channel_deliver_local((kiln_str){ "inner", 5 }, (kiln_str){ "in", 2 }, (kiln_str){ NULL, 0 },
                              (kiln_str){ "1", 1 }, 0);
        serials_seen[nserials++] = channel_event_serial();
    }
}

TEST(event_serial_names_one_event)
{
    loop *l = loop_new();
    channel_attach(l);
    CHECK_EQ_INT((int)channel_event_serial(), 0);           /* outside a delivery */
    channel_sub *a = channel_subscribe("s", note_serial, NULL);
    channel_sub *b = channel_subscribe("s", note_serial, NULL);
    kiln_publish("s", "one", "1");
    kiln_publish("s", "two", "2");
    pump(l);
    CHECK_EQ_INT(nserials, 4);
    CHECK(serials_seen[0] != 0 && serials_seen[0] == serials_seen[1]);
    CHECK(serials_seen[2] != serials_seen[0] && serials_seen[2] == serials_seen[3]);
    channel_unsubscribe(a);
    channel_unsubscribe(b);
    /* Nested: outer subscriber x delivers "inner" to y inside its call. */
    nserials = 0;
    channel_sub *x = channel_subscribe("o", note_serial, "nest");
    channel_sub *y = channel_subscribe("inner", note_serial, NULL);
    channel_deliver_local((kiln_str){ "o", 1 }, (kiln_str){ "outer", 5 }, (kiln_str){ NULL, 0 },
                          (kiln_str){ "1", 1 }, 0);
    CHECK_EQ_INT(nserials, 3);
    CHECK(serials_seen[1] != serials_seen[0]);               /* the inner event's own */
    CHECK(serials_seen[2] == serials_seen[0]);               /* the outer's is back   */
    CHECK_EQ_INT((int)channel_event_serial(), 0);
    channel_unsubscribe(x);
    channel_unsubscribe(y);
    channel_detach();
    loop_free(l);
}

int main(void) { log_init(LOG_ERROR, 0); return t_run(); }
