/*
 * rules.c -- the leaf rules of Kiln's validation, each a transcription of what
 * Joi 17/18 does in JavaScript:
 *
 *   - string length in UTF-16 code units (JavaScript's .length);
 *   - Joi's number conversion of strings ("4.2e1" -> 42), including its
 *     "safe number" test, which compares the text with JavaScript's
 *     Number.prototype.toString() of the parsed value, and that toString();
 *   - Joi's boolean conversion ("TRUE", " false ");
 *   - Joi's .email() (@hapi/address rules; any well-formed TLD: no IANA list).
 * (Patterns are regex.c.)
 *
 * Owns: a "C" locale object, made once, freed at exit.
 * Must never: depend on the process locale (strtod and printf of numbers run
 * under that explicit "C" locale), or allocate outside the caller's arena.
 */
#include "validate/schema.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* ---- UTF-8 ------------------------------------------------------------ */

/* Decodes the UTF-8 sequence at s[i] (i < n): returns its byte length and
 * sets *cp, or returns 1 with *cp = 0xFFFD for a byte that starts no valid
 * sequence (overlongs, surrogates and > U+10FFFF are invalid). */
size_t schema_utf8_next(const unsigned char *s, size_t n, size_t i, uint32_t *cp)
{
    unsigned c = s[i];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; *cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3; *cp = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4; *cp = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else { *cp = 0xFFFD; return 1; }
    if (n - i < len) { *cp = 0xFFFD; return 1; }
    for (size_t k = 1; k < len; k++) {
        unsigned b = s[i + k];
        if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) { *cp = 0xFFFD; return 1; }
        *cp = (*cp << 6) | (b & 0x3F);
    }
    return len;
}

size_t schema_utf16_len(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t units = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += schema_utf8_next(u, n, i, &cp);
        units += cp >= 0x10000 ? 2 : 1;
    }
    return units;
}

/* JavaScript's WhiteSpace and LineTerminator: what \s matches and what
 * String.prototype.trim() removes. */
static bool js_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

/* s[*b .. *e) trimmed as JavaScript's trim() would. */
static void js_trim(const char *s, size_t n, size_t *b, size_t *e)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, start = n, end = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = schema_utf8_next(u, n, i, &cp);
        if (!js_space(cp)) {
            if (start == n) start = i;
            end = i + len;
        }
        i += len;
    }
    if (start == n) start = end = 0;
    *b = start;
    *e = end;
}

/* ---- the C locale ----------------------------------------------------- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_free(void)
{
    freelocale(c_locale);
    c_locale = (locale_t)0;
}

static void c_locale_make(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!c_locale) KILN_PANIC("newlocale(\"C\") failed");
    atexit(c_locale_free);
}

locale_t schema_c_locale(void)
{
    pthread_once(&c_locale_once, c_locale_make);
    return c_locale;
}

/* ---- JavaScript numbers ------------------------------------------------ */

void schema_js_number(double v, char *out, size_t cap)
{
    KILN_ASSERT(cap >= 32);
    if (isnan(v)) { snprintf(out, cap, "NaN"); return; }
    if (isinf(v)) { snprintf(out, cap, v < 0 ? "-Infinity" : "Infinity"); return; }
    if (v == 0) { snprintf(out, cap, "0"); return; }
    /* The shortest digit string that reads back as v (printf rounds
     * correctly, so for each precision it is the nearest one). */
    char e[40];
    locale_t old = uselocale(schema_c_locale());
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, fabs(v));
        if (strtod(e, NULL) == fabs(v)) break;
    }
    uselocale(old);
    /* e = "d.ddde[+-]xx": collect the digits and the exponent. */
    char dig[20];
    int k = 0;
    const char *p = e;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') dig[k++] = *p;
    while (k > 1 && dig[k - 1] == '0') k--;
    int n = atoi(p + 1) + 1;  /* ECMAScript's n: value = 0.digits x 10^n */
    char *o = out;
    if (v < 0) *o++ = '-';
    if (k <= n && n <= 21) {                  /* 1500, 1e21 -> 1000...0 */
        memcpy(o, dig, (size_t)k); o += k;
        for (int i = k; i < n; i++) *o++ = '0';
    } else if (0 < n && n <= 21) {            /* 12.5 */
        memcpy(o, dig, (size_t)n); o += n;
        *o++ = '.';
        memcpy(o, dig + n, (size_t)(k - n)); o += k - n;
    } else if (-6 < n && n <= 0) {            /* 0.000125 */
        *o++ = '0'; *o++ = '.';
        for (int i = 0; i < -n; i++) *o++ = '0';
        memcpy(o, dig, (size_t)k); o += k;
    } else {                                  /* 1.25e+21, 1e-7 */
        *o++ = dig[0];
        if (k > 1) { *o++ = '.'; memcpy(o, dig + 1, (size_t)(k - 1)); o += k - 1; }
        o += sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    *o = '\0';
}

static inline bool is_dig(char c) { return c >= '0' && c <= '9'; }

/* Joi's extractSignificantDigits: drop a trailing exponent, the '.', the
 * trailing zeros, then a leading sign and zeros. out has room for n + 1. */
static void significant_digits(const char *s, size_t n, char *out)
{
    size_t end = n, j = n;
    while (j > 0 && is_dig(s[j - 1])) j--;
    if (j < end) {
        size_t k = j;
        if (k > 0 && (s[k - 1] == '+' || s[k - 1] == '-')) k--;
        if (k > 0 && (s[k - 1] == 'e' || s[k - 1] == 'E')) end = k - 1;
    }
    size_t m = 0;
    bool dot = false;
    for (size_t i = 0; i < end; i++) {
        if (s[i] == '.' && !dot) { dot = true; continue; }
        out[m++] = s[i];
    }
    while (m > 0 && out[m - 1] == '0') m--;
    size_t b = 0;
    if (b < m && (out[b] == '+' || out[b] == '-')) b++;
    while (b < m && out[b] == '0') b++;
    memmove(out, out + b, m - b);
    out[m - b] = '\0';
}

/* Joi's normalizeDecimal (for text without an exponent). out: n + 2 bytes. */
static void normalize_decimal(const char *s, size_t n, char *out)
{
    if (n > 0 && s[0] == '+') { s++; n--; }                 /* ^\+          */
    const char *dot = memchr(s, '.', n);                     /* \.0*$ -> ''  */
    if (dot) {
        size_t i = (size_t)(dot - s) + 1;
        while (i < n && s[i] == '0') i++;
        if (i == n) n = (size_t)(dot - s);
    }
    size_t m = 0, neg = n > 0 && s[0] == '-';
    if (n > neg && s[neg] == '.') {                          /* .5 -> 0.5    */
        memcpy(out, s, neg);
        out[neg] = '0';
        memcpy(out + neg + 1, s + neg, n - neg);
        m = n + 1;
    } else {
        memcpy(out, s, n);
        m = n;
    }
    size_t z = neg;                                          /* ^(-?)0+([0-9]) */
    while (z < m && out[z] == '0') z++;
    size_t zeros = z - neg, drop = 0;
    if (zeros >= 1 && z < m && is_dig(out[z])) drop = zeros;
    else if (zeros >= 2) drop = zeros - 1;
    memmove(out + neg, out + neg + drop, m - neg - drop);
    m -= drop;
    if (memchr(out, '.', m) && m > 0 && out[m - 1] == '0')
        while (m > 0 && out[m - 1] == '0') m--;
    out[m] = '\0';
    if (strcmp(out, "-0") == 0) strcpy(out, "0");
}

/* ^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$ on s[0..n) */
static bool numeric_text(const char *s, size_t n, bool *has_exp)
{
    size_t i = 0, digits = 0;
    *has_exp = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    while (i < n && is_dig(s[i])) { i++; digits++; }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_dig(s[i])) { i++; digits++; }
    }
    if (digits == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *has_exp = true;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t d0 = i;
        while (i < n && is_dig(s[i])) i++;
        if (i == d0) return false;
    }
    return i == n;
}

int schema_coerce_number(arena *a, const char *s, size_t n, double *out)
{
    size_t b, e;
    bool has_exp;
    js_trim(s, n, &b, &e);
    s += b;
    n = e - b;
    if (!numeric_text(s, n, &has_exp)) return 0;
    char small[128];
    char *work = 2 * n + 64 <= sizeof small ? small : arena_alloc(a, 2 * n + 64);
    char *lit = work, *norm = work + n + 1;   /* n + 1 and n + 2 bytes       */
    memcpy(lit, s, n);
    lit[n] = '\0';
    double v = strtod_l(lit, NULL, schema_c_locale());
    if (v == 0) v = 0;                        /* -0 -> 0, as Joi does        */
    char js[40], js_sig[40];
    schema_js_number(v, js, sizeof js);
    int rc = 1;
    if (has_exp) {
        significant_digits(s, n, norm);
        significant_digits(js, strlen(js), js_sig);
        if (strcmp(norm, js_sig) != 0) rc = -1;
    } else if (!strchr(js, 'e')) {
        normalize_decimal(s, n, norm);
        if (strcmp(norm, js) != 0) rc = -1;
    }
    *out = v;
    return rc;
}

int schema_coerce_bool(const char *s, size_t n, bool *out)
{
    size_t b, e;
    js_trim(s, n, &b, &e);
    if (e - b == 4 && strncasecmp(s + b, "true", 4) == 0) { *out = true; return 1; }
    if (e - b == 5 && strncasecmp(s + b, "false", 5) == 0) { *out = false; return 1; }
    return 0;
}

bool schema_parse_number(const char *s, double *out)
{
    bool has_exp;
    size_t n = strlen(s);
    /* JSON's grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
    if (n == 0 || s[0] == '+' || s[0] == '.' || !numeric_text(s, n, &has_exp)) return false;
    const char *d = s + (s[0] == '-');
    if (!is_dig(d[0]) || (d[0] == '0' && is_dig(d[1]))) return false;
    const char *dot = strchr(s, '.');
    if (dot && !is_dig(dot[1])) return false;
    *out = strtod_l(s, NULL, schema_c_locale());
    return isfinite(*out);
}

/* ---- e-mail ------------------------------------------------------------ */

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A domain label: letters, digits, inner hyphens (a non-ASCII label is
 * judged on its ASCII characters: Joi punycodes it first). */
static bool domain_label(const unsigned char *s, size_t n, bool tld)
{
    if (n == 0) return false;
    bool ascii = true;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 0x80) { ascii = false; continue; }
        if (!is_alnum(s[i]) && s[i] != '-') return false;
    }
    if (s[0] == '-' || s[n - 1] == '-') return false;
    if (!ascii) return true;
    if (n > 63) return false;
    if (tld && !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
    return true;
}

bool schema_is_email(const char *str, size_t n)
{
    static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
    const unsigned char *s = (const unsigned char *)str;
    const unsigned char *at = n ? memchr(s, '@', n) : NULL;
    if (!at || memchr(at + 1, '@', n - (size_t)(at - s) - 1)) return false;
    size_t local = (size_t)(at - s), dlen = n - local - 1;
    if (local == 0 || local > 64 || schema_utf16_len(str, n) > 254) return false;
    /* Local part: dot-separated non-empty atoms of atext (or non-ASCII). */
    for (size_t i = 0; i < local; i++) {
        unsigned char c = s[i];
        if (c == '.') {
            if (i == 0 || i + 1 == local || s[i + 1] == '.') return false;
        } else if (c < 0x80 && !is_alnum(c) && (!c || !strchr(atext, c))) {
            return false;
        }
    }
    /* Domain: two or more labels, no controls or separators. */
    const unsigned char *d = at + 1;
    if (dlen == 0 || schema_utf16_len((const char *)d, dlen) > 256) return false;
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= dlen; i++) {
        if (i < dlen && d[i] != '.') continue;
        labels++;
        if (!domain_label(d + start, i - start, i == dlen)) return false;
        start = i + 1;
    }
    return labels >= 2;
}

