/*
 * regex.c -- the .pattern rule of Kiln's validation. Joi patterns are
 * JavaScript regexes; Kiln matches with POSIX ERE (regcomp/regexec), so a
 * pattern is first translated, keeping JavaScript's meaning for what schemas
 * use: \d \w \s and their negations, (?:...), lazy quantifiers (same
 * matches for a yes/no test), \n \t \xHH \uHHHH escapes, literal { and ],
 * and -- because regexec runs in the "C" locale, byte by byte -- '.', [^...]
 * and \D \W \S match one whole UTF-8 character, and a non-ASCII literal is a
 * group so a quantifier repeats all of it. What cannot be translated
 * (look-arounds, back-references, non-ASCII ranges) is refused with a
 * message, which schema_check() reports at start-up.
 *
 * Known differences from JavaScript: '.' matches U+2028/U+2029; an astral
 * character (two UTF-16 units in JavaScript) is one character here; \S and
 * [^\s] match non-ASCII spaces.
 *
 * Owns: the process-wide cache of compiled patterns, keyed by the pattern
 * pointer (and checked against a copy of its text, so a reused buffer is
 * recompiled), each entry malloc'd once so a regex_t never moves, at most
 * RX_CACHE_MAX of them (beyond, a pattern compiles for each use). Freed at
 * exit (and by schema_regex_cache_clear) so LeakSanitizer stays quiet.
 *
 * Speed: a search runs as one anchored pass over the value (see rx_compile),
 * linear in its length for the shapes that make backtracking engines --
 * V8's, so Joi's -- take minutes: (a|ab)*c, ^(a+)+$ on 1 MB take ~10 ms.
 *
 * Must never: hold the cache lock while matching (regexec is thread-safe on
 * a shared regex_t in glibc), or free an entry another thread may be using
 * (a replaced entry is kept until the cache is cleared).
 */
#include "validate/schema.h"
#include "core/buf.h"

#include <locale.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>

static inline bool is_dig(char c) { return c >= '0' && c <= '9'; }

/* One UTF-8 encoded character of two, three or four bytes. */
#define RX_MB "[\xC2-\xDF][\x80-\xBF]|[\xE0-\xEF][\x80-\xBF][\x80-\xBF]|" \
              "[\xF0-\xF4][\x80-\xBF][\x80-\xBF][\x80-\xBF]"
/* JavaScript's non-ASCII white space, UTF-8 encoded. */
#define RX_USPACE "\xC2\xA0|\xE1\x9A\x80|\xE2\x80[\x80-\x8A\xA8\xA9\xAF]|\xE2\x81\x9F|" \
                  "\xE3\x80\x80|\xEF\xBB\xBF"

typedef struct rx_class {
    bool set[128];     /* ASCII members                        */
    buf mb;            /* "|<utf-8>" per non-ASCII member      */
} rx_class;

enum { ESC_CHAR, ESC_CLASS, ESC_BOUNDARY };

/* Parses the escape after a backslash at *pp (which points past it).
 * ESC_CHAR: *cp is the character; ESC_CLASS: *cp is d D w W s S;
 * ESC_BOUNDARY: *cp is b or B. Returns -1 with *err on what we refuse. */
static int rx_escape(const char **pp, bool in_class, uint32_t *cp, const char **err)
{
    const char *p = *pp;
    unsigned char e = (unsigned char)*p;
    int kind = ESC_CHAR;
    static const char hex[] = "0123456789abcdefABCDEF";
    if (!e) { *err = "the pattern ends with a backslash"; return -1; }
    p++;
    switch (e) {
    case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
        kind = ESC_CLASS; *cp = e; break;
    case 'b': case 'B':
        if (in_class) {
            if (e == 'B') { *err = "\\B inside [...] is not supported"; return -1; }
            *cp = 0x08;
        } else {
            kind = ESC_BOUNDARY; *cp = e;
        }
        break;
    case 'n': *cp = '\n'; break;
    case 'r': *cp = '\r'; break;
    case 't': *cp = '\t'; break;
    case 'f': *cp = '\f'; break;
    case 'v': *cp = '\v'; break;
    case 'c':
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
            *err = "\\c must be followed by a letter"; return -1;
        }
        *cp = (uint32_t)(*p++ & 31);
        break;
    case 'x': case 'u': {
        int len = e == 'x' ? 2 : 4;
        uint32_t v = 0;
        int i = 0;
        for (; i < len && p[i] && strchr(hex, p[i]); i++)
            v = v * 16 + (uint32_t)(p[i] <= '9' ? p[i] - '0' : (p[i] | 32) - 'a' + 10);
        if (i < len) { *cp = e; break; }       /* "\x" alone means "x" */
        p += len;
        if (v == 0) { *err = "a NUL character cannot be matched"; return -1; }
        if (v >= 0xD800 && v <= 0xDFFF) { *err = "surrogate escapes are not supported"; return -1; }
        *cp = v;
        break;
    }
    default:
        if (e >= '0' && e <= '9') {
            *err = e == '0' ? "a NUL character cannot be matched" : "back-references are not supported";
            return -1;
        }
        if (e >= 0x80) {
            p--;
            size_t len = schema_utf8_next((const unsigned char *)p, strlen(p), 0, cp);
            p += len;
        } else {
            *cp = e;                               /* identity escape: \. \/ \a */
        }
    }
    *pp = p;
    return kind;
}

static void put_utf8(buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    buf_append(b, u, n);
}

/* A literal character outside brackets. */
static void put_literal(buf *b, uint32_t cp)
{
    if (cp >= 0x80) { buf_putc(b, '('); put_utf8(b, cp); buf_putc(b, ')'); return; }
    if (strchr(".[]\\()*+?{}|^$", (int)cp)) buf_putc(b, '\\');
    buf_putc(b, (char)cp);
}

static void class_range(rx_class *c, unsigned lo, unsigned hi)
{
    for (unsigned i = lo; i <= hi && i < 128; i++) c->set[i] = true;
}

/* The ASCII members of \d \w \s. */
static void class_escape(rx_class *c, uint32_t e)
{
    switch (e | 32) {
    case 'd': class_range(c, '0', '9'); break;
    case 'w': class_range(c, '0', '9'); class_range(c, 'A', 'Z');
              class_range(c, 'a', 'z'); c->set['_'] = true; break;
    default:  class_range(c, '\t', '\r'); c->set[' '] = true; break;
    }
}

/* Emits the inside of a bracket expression for the ASCII set (plus the
 * bytes 0x80-0xFF when negated, so [^...] never eats half a character):
 * ']' first, '-' last, '[' never before ':' '.' '=' and '^' never first. */
static void put_bracket(buf *b, const rx_class *c, bool negated)
{
    size_t at = b->len;
    buf_putc(b, '[');
    if (negated) buf_putc(b, '^');
    if (c->set[']']) buf_putc(b, ']');
    for (unsigned i = 1; i < 128;) {
        if (!c->set[i] || strchr("]^-[", (int)i)) { i++; continue; }
        unsigned j = i;
        while (j + 1 < 128 && c->set[j + 1] && !strchr("]^-[", (int)(j + 1))) j++;
        buf_putc(b, (char)i);
        if (j >= i + 2) buf_putc(b, '-');
        if (j > i) buf_putc(b, (char)j);
        i = j + 1;
    }
    if (c->set['[']) buf_putc(b, '[');
    if (c->set['^']) {
        if (!negated && b->len == at + 1) {    /* '^' alone would negate */
            b->len = at;
            buf_puts(b, c->set['-'] ? "[-^]" : "\\^");
            return;
        }
        buf_putc(b, '^');
    }
    if (negated) buf_puts(b, "\x80-\xFF");
    if (c->set['-']) buf_putc(b, '-');
    buf_putc(b, ']');
}

/* A negated set matches one ASCII byte outside it, or any non-ASCII char. */
static void put_negated(buf *b, const rx_class *c)
{
    buf_putc(b, '(');
    put_bracket(b, c, true);
    buf_puts(b, "|" RX_MB ")");
}

/* Parses [...] at *pp (past the '['), emits it. */
static bool rx_class_expr(const char **pp, buf *out, const char **err)
{
    const char *p = *pp;
    rx_class c;
    memset(c.set, 0, sizeof c.set);
    buf_init(&c.mb, 0);
    bool neg = *p == '^', ok = false, any_ascii = false;
    if (neg) p++;
    while (*p != ']') {
        uint32_t lo, hi;
        int kind = ESC_CHAR, kind2 = ESC_CHAR;
        if (!*p) { *err = "missing ] after ["; goto done; }
        if (*p == '\\') {
            p++;
            if ((kind = rx_escape(&p, true, &lo, err)) < 0) goto done;
        } else {
            size_t len = schema_utf8_next((const unsigned char *)p, strlen(p), 0, &lo);
            if ((unsigned char)*p >= 0x80 && len == 1) { *err = "the pattern is not valid UTF-8"; goto done; }
            p += len;
        }
        hi = lo;
        if (p[0] == '-' && p[1] && p[1] != ']') {
            const char *q = p + 1;
            if (*q == '\\') {
                q++;
                if ((kind2 = rx_escape(&q, true, &hi, err)) < 0) goto done;
            } else {
                q += schema_utf8_next((const unsigned char *)q, strlen(q), 0, &hi);
            }
            if (kind == ESC_CHAR && kind2 == ESC_CHAR) {
                if (hi < lo) { *err = "range out of order in [...]"; goto done; }
                p = q;
            } else {
                hi = lo;   /* [\d-z]: the '-' is literal, as in JavaScript */
            }
        }
        if (kind == ESC_CLASS) {
            if (lo == 'D' || lo == 'W' || lo == 'S') {
                *err = "\\D, \\W and \\S inside [...] are not supported"; goto done;
            }
            class_escape(&c, lo);
            if (lo == 's' && !neg) buf_puts(&c.mb, "|" RX_USPACE);
            any_ascii = true;
        } else if (hi < 0x80) {
            class_range(&c, lo, hi);
            any_ascii = true;
        } else if (lo != hi) {
            *err = "ranges of non-ASCII characters in [...] are not supported"; goto done;
        } else if (neg) {
            *err = "non-ASCII characters in [^...] are not supported"; goto done;
        } else {
            buf_putc(&c.mb, '|');
            put_utf8(&c.mb, lo);
        }
    }
    p++;
    if (neg) {
        put_negated(out, &c);                  /* [^] matches any character */
    } else if (!any_ascii && !c.mb.len) {
        *err = "[] matches nothing"; goto done;
    } else if (!c.mb.len) {
        put_bracket(out, &c, false);
    } else {
        buf_putc(out, '(');
        if (any_ascii) put_bracket(out, &c, false);
        buf_append(out, c.mb.data + !any_ascii, c.mb.len - !any_ascii);
        buf_putc(out, ')');
    }
    ok = true;
    *pp = p;
done:
    buf_free(&c.mb);
    return ok;
}

/* {n}, {n,} or {n,m} at p: its length (and *ordered: n <= m), or 0 when
 * it is not a quantifier and so, in JavaScript, a literal '{'. */
static size_t rx_braces(const char *p, bool *ordered)
{
    size_t i = 1;
    unsigned long lo = 0, hi;
    if (!is_dig(p[i])) return 0;
    while (is_dig(p[i])) lo = lo * 10 + (unsigned long)(p[i++] - '0');
    hi = lo;
    if (p[i] == ',') {
        i++;
        if (is_dig(p[i])) { hi = 0; while (is_dig(p[i])) hi = hi * 10 + (unsigned long)(p[i++] - '0'); }
    }
    *ordered = hi >= lo;
    return p[i] == '}' ? i + 1 : 0;
}

char *schema_regex_translate(const char *pattern, const char **err)
{
    buf b;
    buf_init(&b, strlen(pattern) * 2 + 16);
    const char *p = pattern;
    bool atom = false;   /* is there something a quantifier may repeat? */
    bool ordered = true; /* {n,m} with n <= m                           */
    *err = NULL;
    while (*p && !*err) {
        unsigned char c = (unsigned char)*p;
        bool was_atom = atom;
        atom = true;
        if (c == '\\') {
            uint32_t cp;
            p++;
            int kind = rx_escape(&p, false, &cp, err);
            if (kind < 0) break;
            if (kind == ESC_BOUNDARY) { buf_putc(&b, '\\'); buf_putc(&b, (char)cp); atom = false; }
            else if (kind == ESC_CHAR) put_literal(&b, cp);
            else if (cp == 'd') buf_puts(&b, "[0-9]");
            else if (cp == 'w') buf_puts(&b, "[0-9A-Z_a-z]");
            else if (cp == 's') buf_puts(&b, "([\t-\r ]|" RX_USPACE ")");
            else {
                rx_class cl;
                memset(cl.set, 0, sizeof cl.set);
                class_escape(&cl, cp);
                put_negated(&b, &cl);
            }
        } else if (c == '.') {
            buf_puts(&b, "([^\n\r\x80-\xFF]|" RX_MB ")");
            p++;
        } else if (c == '[') {
            p++;
            if (!rx_class_expr(&p, &b, err)) break;
        } else if (c == '(') {
            if (p[1] == '?') {
                if (p[2] != ':') { *err = "look-arounds and named groups are not supported"; break; }
                p += 2;
            }
            buf_putc(&b, '(');
            p++;
            atom = false;
        } else if (c == '*' || c == '+' || c == '?' || (c == '{' && rx_braces(p, &ordered))) {
            if (!was_atom) { *err = "nothing to repeat"; break; }
            if (!ordered) { *err = "numbers out of order in {} quantifier"; break; }
            size_t len = c == '{' ? rx_braces(p, &ordered) : 1;
            buf_append(&b, p, len);
            p += len;
            if (*p == '?') p++;                    /* lazy: same matches */
            atom = false;
        } else if (c == '|' || c == '^' || c == '$') {
            buf_putc(&b, (char)c);
            p++;
            atom = false;
        } else if (c == ')') {
            buf_putc(&b, ')');
            p++;
        } else {
            uint32_t cp;
            size_t len = schema_utf8_next((const unsigned char *)p, strlen(p), 0, &cp);
            if (c >= 0x80 && len == 1) { *err = "the pattern is not valid UTF-8"; break; }
            p += len;
            put_literal(&b, cp);
        }
    }
    if (*err) { buf_free(&b); return NULL; }
    buf_putc(&b, '\0');
    return b.data;
}

char *schema_regex_display(arena *a, const char *pattern)
{
    /* At most 2 bytes out per byte in ("\/", "\n", "\u2028" for 3 bytes),
     * plus "/(?:)/". */
    char *out = arena_alloc(a, strlen(pattern) * 2 + 8), *o = out;
    bool in_class = false;
    *o++ = '/';
    if (!*pattern) { memcpy(o, "(?:)", 4); o += 4; }
    for (const char *p = pattern; *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool lt2 = c == 0xE2 && (unsigned char)p[1] == 0x80 &&
                   ((unsigned char)p[2] == 0xA8 || (unsigned char)p[2] == 0xA9);
        if (c == '\\' && (p[1] == '\n' || p[1] == '\r' || (p[1] == '\xE2' && p[2] == '\x80' &&
                          (p[3] == '\xA8' || p[3] == '\xA9')))) {
            continue;                          /* the terminator gets escaped */
        } else if (c == '\\' && p[1]) {
            *o++ = *p++;
            *o++ = *p;
        } else if (c == '/' && !in_class) { *o++ = '\\'; *o++ = '/'; }
        else if (c == '\n') { *o++ = '\\'; *o++ = 'n'; }
        else if (c == '\r') { *o++ = '\\'; *o++ = 'r'; }
        else if (lt2) {
            memcpy(o, p[2] == '\xA8' ? "\\u2028" : "\\u2029", 6);
            o += 6;
            p += 2;
        } else {
            if (c == '[') in_class = true;
            else if (c == ']') in_class = false;
            *o++ = (char)c;
        }
    }
    *o++ = '/';
    *o = '\0';
    return out;
}

/* ---- the regex cache ---------------------------------------------------- */

/* Patterns are meant to be static strings, so the cache stays small. Past
 * RX_CACHE_MAX entries (patterns built at run time, say), a pattern is
 * compiled for each use and freed right after, so memory stays bounded. */
#define RX_CACHE_MAX 1024

typedef struct rx_entry {
    const char *key;          /* the pattern pointer it was compiled for   */
    char *text;               /* a copy of the pattern text at that time   */
    regex_t re;
    bool ok;
    char *err;                /* why it does not compile, when !ok         */
    struct rx_entry *older;   /* every cached entry ever made, to free     */
} rx_entry;

static rx_entry **rx_slots;   /* open addressing on the key pointer        */
static size_t rx_cap, rx_count, rx_made, rx_compiles;
static rx_entry *rx_all;
static bool rx_atexit;
static pthread_mutex_t rx_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t rx_hash(const char *key, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 17) & (cap - 1);
}

static void rx_insert(rx_entry *e)
{
    size_t i = rx_hash(e->key, rx_cap);
    while (rx_slots[i] && rx_slots[i]->key != e->key) i = (i + 1) & (rx_cap - 1);
    if (!rx_slots[i]) rx_count++;
    rx_slots[i] = e;   /* a replaced entry stays on rx_all until the clear */
}

/* Translates and compiles pattern into e (text and err are malloc'd). */
static void rx_compile(rx_entry *e, const char *pattern)
{
    memset(e, 0, sizeof *e);
    e->key = pattern;
    e->text = kiln_xstrdup(pattern);
    const char *terr = NULL;
    char *ere = schema_regex_translate(pattern, &terr);
    __atomic_add_fetch(&rx_compiles, 1, __ATOMIC_RELAXED);
    if (!ere) {
        e->err = kiln_xstrdup(terr);
        return;
    }
    /* A search for P is run as an anchored match of ^(any byte)*(P): glibc
     * then walks the value once, where an unanchored search that fails
     * restarts at every byte (quadratic: minutes for 1 MB). ^ and $ inside
     * P still only match at the ends of the value. */
    buf w;
    buf_init(&w, strlen(ere) + 16);
    buf_puts(&w, "^(a|[^a])*(");
    buf_puts(&w, ere);
    buf_puts(&w, ")");
    buf_putc(&w, '\0');
    free(ere);
    locale_t old = uselocale(schema_c_locale());
    int rc = regcomp(&e->re, w.data, REG_EXTENDED | REG_NOSUB);
    uselocale(old);
    buf_free(&w);
    if (rc == 0) {
        e->ok = true;
    } else {
        char msg[160];
        regerror(rc, &e->re, msg, sizeof msg);
        e->err = kiln_xstrdup(msg);
    }
}

static void rx_drop(rx_entry *e)
{
    if (e->ok) regfree(&e->re);
    free(e->err);
    free(e->text);
}

/* The compiled pattern: the cached entry, or (cache full) *tmp, filled for
 * this one use; give it back with rx_put(). */
static const rx_entry *rx_get(const char *pattern, rx_entry *tmp)
{
    pthread_mutex_lock(&rx_lock);
    rx_entry *e = NULL;
    if (rx_cap) {
        size_t i = rx_hash(pattern, rx_cap);
        while (rx_slots[i] && rx_slots[i]->key != pattern) i = (i + 1) & (rx_cap - 1);
        e = rx_slots[i];
    }
    if (e && strcmp(e->text, pattern) == 0) {
        pthread_mutex_unlock(&rx_lock);
        return e;
    }
    /* new, or the same pointer now holds other text */
    if (rx_made >= RX_CACHE_MAX) {
        pthread_mutex_unlock(&rx_lock);
        rx_compile(tmp, pattern);
        return tmp;
    }
    if (2 * (rx_count + 1) > rx_cap) {
        rx_entry **old = rx_slots;
        size_t old_cap = rx_cap;
        rx_cap = rx_cap ? rx_cap * 2 : 16;
        rx_slots = kiln_xcalloc(rx_cap, sizeof *rx_slots);
        rx_count = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i]) rx_insert(old[i]);
        free(old);
    }
    e = kiln_xmalloc(sizeof *e);
    rx_compile(e, pattern);
    e->older = rx_all;
    rx_all = e;
    rx_made++;
    rx_insert(e);
    if (!rx_atexit) {
        rx_atexit = true;
        atexit(schema_regex_cache_clear);    /* for LeakSanitizer */
    }
    pthread_mutex_unlock(&rx_lock);
    return e;
}

static void rx_put(const rx_entry *e, rx_entry *tmp)
{
    if (e == tmp) rx_drop(tmp);
}

const char *schema_regex_check(arena *a, const char *pattern)
{
    rx_entry tmp;
    const rx_entry *e = rx_get(pattern, &tmp);
    const char *err = e->ok ? NULL : arena_strdup(a, e->err);
    rx_put(e, &tmp);
    return err;
}

bool schema_regex_test(const char *pattern, const char *s, size_t n)
{
    /* glibc honours REG_STARTEND, but sanitizer interceptors of regexec
     * read up to a NUL: the value must be terminated, as kiln_values are. */
    KILN_ASSERT(s[n] == '\0');
    rx_entry tmp;
    const rx_entry *e = rx_get(pattern, &tmp);
    if (!e->ok) KILN_PANIC("validation pattern /%s/: %s (run schema_check at start-up)", pattern, e->err);
    regmatch_t m[1] = { { .rm_so = 0, .rm_eo = (regoff_t)n } };
    locale_t old = uselocale(schema_c_locale());
    int rc = regexec(&e->re, s, 1, m, REG_STARTEND);
    uselocale(old);
    rx_put(e, &tmp);
    return rc == 0;
}

size_t schema_regex_cache_count(void) { return __atomic_load_n(&rx_made, __ATOMIC_RELAXED); }
size_t schema_regex_compile_count(void) { return __atomic_load_n(&rx_compiles, __ATOMIC_RELAXED); }

void schema_regex_cache_clear(void)
{
    pthread_mutex_lock(&rx_lock);
    while (rx_all) {
        rx_entry *e = rx_all;
        rx_all = e->older;
        rx_drop(e);
        free(e);
    }
    free(rx_slots);
    rx_slots = NULL;
    rx_cap = rx_count = rx_made = 0;
    pthread_mutex_unlock(&rx_lock);
}
