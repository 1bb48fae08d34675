/*
 * test_promise.c -- src/graphql/promise.c runs jobs in the order Node 20
 * runs them. Each test builds, with jp_*, the promises of a few lines of
 * JavaScript (quoted above it) and checks the order the handlers ran in
 * against what `node` printed for those lines.
 */
#include "graphql/promise.h"
#include "t.h"

#include <stdio.h>

static arena A;
static char out[256];

static void logs(const char *s)
{
    size_t n = strlen(out);
    snprintf(out + n, sizeof out - n, "%s%s", n ? "," : "", s);
}

/* A handler that logs its ctx (and the reason, for a rejection). */
static jp_ret log_ok(jq *q, void *ctx, void *arg)
{
    (void)q, (void)arg;
    logs(ctx);
    return (jp_ret){ JP_VALUE, NULL };
}

static jp_ret log_err(jq *q, void *ctx, void *arg)
{
    (void)q;
    char b[64];
    snprintf(b, sizeof b, "%s %s", (const char *)ctx, (const char *)arg);
    logs(b);
    return (jp_ret){ JP_VALUE, NULL };
}

static jp_ret throw_ctx(jq *q, void *ctx, void *arg)
{
    (void)q, (void)arg;
    return (jp_ret){ JP_THROW, ctx };
}

static jq *start(void)
{
    arena_init(&A, 1 << 14);
    out[0] = 0;
    return jq_new(&A, NULL);
}

static jp *settled(jq *q, bool ok, const char *v)
{
    jp *p = jp_new(q);
    if (ok) jp_resolve(q, p, (void *)v);
    else jp_reject(q, p, (void *)v);
    return p;
}

static void drain(jq *q)
{
    while (jq_run(q)) {}
    arena_destroy(&A);
}

/* Promise.resolve().then(a1).then(a2).then(a3);
 * new Promise((r) => r(Promise.resolve())).then(b);
 * node: a1,a2,a3,b -- adopting a promise costs two jobs. */
TEST(adopting_a_promise_costs_two_jobs)
{
    jq *q = start();
    jp_then(q, jp_then(q, jp_then(q, settled(q, true, NULL), log_ok, NULL, "a1"), log_ok, NULL, "a2"), log_ok, NULL, "a3");
    jp *n = jp_new(q);
    jp_adopt(q, n, settled(q, true, NULL));
    jp_then(q, n, log_ok, NULL, "b");
    drain(q);
    CHECK_EQ_STR(out, "a1,a2,a3,b");
}

/* let ra, rb; pa = new Promise(r => ra = r); pb = new Promise((_, j) => rb = j);
 * Promise.all([pa, pb]).then(ok, (e) => log('all ' + e));
 * Promise.resolve().then(() => { rb('x'); ra(1); log('c'); });
 * Promise.all([Promise.reject('y').catch((e) => { throw e + '1'; }), Promise.reject('z')]).catch((e) => log('all2 ' + e));
 * Promise.resolve(1).finally(() => { throw 'f'; }).catch((e) => log('fin ' + e));
 * Promise.resolve().then(a1).then(a2).then(a3);   (first, in node's run)
 * node: a1,c,a2,all2 z,fin f,a3,b,all x (with the first test's b) */
static jp *pa, *pb;
static jp_ret settle_both(jq *q, void *ctx, void *arg)
{
    (void)ctx, (void)arg;
    jp_reject(q, pb, "x");
    jp_resolve(q, pa, NULL);
    logs("c");
    return (jp_ret){ JP_VALUE, NULL };
}

TEST(promise_all_first_rejection_wins_and_finally_rethrows)
{
    jq *q = start();
    jp_then(q, jp_then(q, jp_then(q, settled(q, true, NULL), log_ok, NULL, "a1"), log_ok, NULL, "a2"), log_ok, NULL, "a3");
    jp *n = jp_new(q);
    jp_adopt(q, n, settled(q, true, NULL));
    jp_then(q, n, log_ok, NULL, "b");
    pa = jp_new(q);
    pb = jp_new(q);
    jp *both[] = { pa, pb };
    jp_then(q, jp_all(q, both, 2), log_ok, log_err, "all");
    jp_then(q, settled(q, true, NULL), settle_both, NULL, NULL);
    jp *two[] = { jp_then(q, settled(q, false, "y"), NULL, throw_ctx, "y1"), settled(q, false, "z") };
    jp_then(q, jp_all(q, two, 2), NULL, log_err, "all2");
    jp *fin = jp_then(q, settled(q, true, NULL), throw_ctx, throw_ctx, "f");   /* .finally(() => { throw 'f' }) */
    jp_then(q, fin, NULL, log_err, "fin");
    drain(q);
    CHECK_EQ_STR(out, "a1,c,a2,all2 z,fin f,a3,b,all x");
}

/* A promise is resolved once: later resolve or reject calls do nothing. */
TEST(resolved_once)
{
    jq *q = start();
    jp *p = jp_new(q);
    jp_reject(q, p, "first");
    jp_resolve(q, p, NULL);
    jp_reject(q, p, "second");
    jp_then(q, p, log_ok, log_err, "p");
    drain(q);
    CHECK_EQ_STR(out, "p first");
}
/* jp_then_after's hops take the places of the .then()s (or Promise.all([p])s)
 * they stand for, fulfilled or rejected:
 * Promise.resolve().then().then().then(() => log('a'));
 * Promise.resolve().then(b1).then(b2).then(b3);
 * Promise.all([Promise.reject('x').then(no)]).then().then(undefined, (e) => log('c ' + e));
 * Promise.resolve().then(d1).then(d2).then(d3).then(d4);
 * node: b1,d1,b2,d2,a,b3,d3,c x,d4 */
TEST(hops_take_the_places_of_the_thens_they_stand_for)
{
    jq *q = start();
    jp_then_after(q, settled(q, true, NULL), 2, log_ok, NULL, "a");
    jp_then(q, jp_then(q, jp_then(q, settled(q, true, NULL), log_ok, NULL, "b1"), log_ok, NULL, "b2"), log_ok, NULL, "b3");
    jp *no = jp_then(q, settled(q, false, "x"), log_ok, NULL, "no");
    jp_then_after(q, no, 2, NULL, log_err, "c");
    jp *d = settled(q, true, NULL);
    d = jp_then(q, jp_then(q, d, log_ok, NULL, "d1"), log_ok, NULL, "d2");
    jp_then(q, jp_then(q, d, log_ok, NULL, "d3"), log_ok, NULL, "d4");
    drain(q);
    CHECK_EQ_STR(out, "b1,d1,b2,d2,a,b3,d3,c x,d4");
}
int main(void) { return t_run(); }
