/*
 * test_arena_printf.c -- arena_printf / arena_vprintf: the whole formatted
 * text, NUL-terminated, in the arena, however long (no fixed buffer in
 * between), and an empty format gives an empty string.
 */
#include "t.h"
#include "core/core.h"

#include <string.h>

static char *via_v(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *via_v(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return s;
}

TEST(formats_into_the_arena)
{
    arena a;
    arena_init(&a, 64);
    CHECK_EQ_STR(arena_printf(&a, "%s[%d].%s", "posts", 3, "title"), "posts[3].title");
    CHECK_EQ_STR(via_v(&a, "%05.1f|%x", 2.25, 255u), "002.2|ff");
    CHECK_EQ_STR(arena_printf(&a, "%s", ""), "");
    /* Longer than the arena's first block and than any stack buffer. */
    char big[9000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *s = arena_printf(&a, "<%s>", big);
    CHECK_EQ_INT((int)strlen(s), (int)sizeof big + 1);
    CHECK(s[0] == '<' && s[1] == 'q' && s[sizeof big - 1] == 'q' && s[sizeof big] == '>');
    arena_destroy(&a);
}

int main(void) { return t_run(); }
