/*
 * fuzz_realtime.c -- the bytes of the real-time layer that come from
 * outside, with their properties checked (abort on a broken one):
 *
 *  byte 0 even: Server-Sent Events. The rest is split into event name, id
 *    and data; sse_format's output, read back by a parser written from the
 *    WHATWG rules (lines end in \r\n, \n or \r; "field: value"; data lines
 *    joined by \n), gives exactly: the name and id cut at their first line
 *    break or NUL, and the data with every line break turned into \n. No
 *    input can add a field or an event.
 *  byte 0 odd: a message from Redis (any client can PUBLISH on our channel).
 *    redis_msg_decode never reads outside the input; what it accepts has its
 *    fields inside the input, in order, covering the body; encoding the
 *    decoded fields gives back the input exactly.
 */
#include "realtime/bridge.h"
#include "realtime/channel.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c) do { if (!(c)) abort(); } while (0)

typedef struct parsed { buf type, id, data; int events; bool has_data; } parsed;

static void sse_line(parsed *p, const char *l, size_t n, buf *data_acc, bool *any)
{
    if (n == 0) {                        /* dispatch */
        if (*any) { p->events++; p->data = *data_acc; buf_init(data_acc, 0); }
        *any = false;
        return;
    }
    if (l[0] == ':') return;
    const char *colon = memchr(l, ':', n);
    size_t fl = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vl = colon ? n - fl - 1 : 0;
    if (vl && v[0] == ' ') { v++; vl--; }
    if (fl == 4 && !memcmp(l, "data", 4)) {
        if (*any) buf_putc(data_acc, '\n');
        buf_append(data_acc, v, vl);
        *any = true;
    } else if (fl == 5 && !memcmp(l, "event", 5)) {
        p->type.len = 0;
        buf_append(&p->type, v, vl);
    } else if (fl == 2 && !memcmp(l, "id", 2)) {
        p->id.len = 0;
        buf_append(&p->id, v, vl);
    } else {
        abort();                          /* a field we never write */
    }
}

static void check_sse(const uint8_t *d, size_t n)
{
    /* name \xff id \xff data */
    const char *s = (const char *)d;
    const char *a = memchr(s, 0xff, n);
    size_t el = a ? (size_t)(a - s) : n;
    const char *rest = a ? a + 1 : s + n;
    size_t rl = a ? n - el - 1 : 0;
    const char *b = memchr(rest, 0xff, rl);
    size_t il = b ? (size_t)(b - rest) : rl;
    const char *data = b ? b + 1 : rest + rl;
    size_t dl = b ? rl - il - 1 : 0;
    bool has_id = a != NULL;
    buf out;
    buf_init(&out, 64);
    sse_format(&out, (kiln_str){ s, el }, (kiln_str){ has_id ? rest : NULL, il }, (kiln_str){ data, dl });
    CHECK(out.len >= 2 && out.data[out.len - 1] == '\n' && out.data[out.len - 2] == '\n');
    parsed p = { 0 };
    buf acc;
    buf_init(&acc, 0);
    bool any = false;
    for (size_t i = 0; i < out.len;) {
        size_t j = i;
        while (j < out.len && out.data[j] != '\n' && out.data[j] != '\r') j++;
        CHECK(j < out.len);                       /* every line is ended */
        sse_line(&p, out.data + i, j - i, &acc, &any);
        if (out.data[j] == '\r' && j + 1 < out.len && out.data[j + 1] == '\n') j++;
        i = j + 1;
    }
    CHECK(p.events == 1 && !any);
    /* Name and id: cut at the first \r, \n or NUL. */
    size_t ecut = 0;
    while (ecut < el && s[ecut] != '\n' && s[ecut] != '\r' && s[ecut] != 0) ecut++;
    CHECK(p.type.len == ecut && (!ecut || !memcmp(p.type.data, s, ecut)));
    size_t icut = 0;
    while (has_id && icut < il && rest[icut] != '\n' && rest[icut] != '\r' && rest[icut] != 0) icut++;
    CHECK(p.id.len == icut && (!icut || !memcmp(p.id.data, rest, icut)));
    /* Data: line breaks normalised to \n, nothing else changed. */
    buf want;
    buf_init(&want, dl + 1);
    for (size_t i = 0; i < dl; i++) {
        if (data[i] == '\r') { buf_putc(&want, '\n'); if (i + 1 < dl && data[i + 1] == '\n') i++; }
        else buf_putc(&want, data[i]);
    }
    CHECK(p.data.len == want.len && (!want.len || !memcmp(p.data.data, want.data, want.len)));
    buf_free(&want);
    buf_free(&acc);
    buf_free(&p.type);
    buf_free(&p.id);
    buf_free(&p.data);
    buf_free(&out);
}

static void check_redis(const uint8_t *d, size_t n)
{
    char *copy = malloc(n ? n : 1);             /* exact size: ASan sees any overread */
    memcpy(copy, d, n);
    redis_msg m;
    if (redis_msg_decode(copy, n, &m)) {
        const char *end = copy + n;
        CHECK(m.channel.ptr >= copy && m.channel.ptr + m.channel.len <= end);
        CHECK(m.event.ptr == m.channel.ptr + m.channel.len);
        CHECK(m.data.ptr + m.data.len == end);
        buf again;
        buf_init(&again, n + 1);
        redis_msg_encode(&again, m.machine, m.channel, m.event, m.id, m.data, m.origin);
        CHECK(again.len == n && memcmp(again.data, copy, n) == 0);
        buf_free(&again);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    if (data[0] % 2 == 0) check_sse(data + 1, size - 1);
    else check_redis(data + 1, size - 1);
    return 0;
}
