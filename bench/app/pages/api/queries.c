/* /api/queries?queries=N[&seq=1] -- TechEmpower's "multiple queries": N
 * posts picked at random (1..10000), one query each, answered as an array.
 * By default the N queries go out together (kiln_db_send, one pipeline);
 * seq=1 runs them one at a time (kiln_db_query), the figure to beat. */
#include <kiln.h>

#include <stdlib.h>
#include <unistd.h>

#define MAX_QUERIES 500

static unsigned next_id(void)
{
    static unsigned state;
    if (!state) state = (unsigned)getpid() * 2654435761u | 1u;
    state ^= state << 13;                         /* xorshift32 */
    state ^= state >> 17;
    state ^= state << 5;
    return state % 10000 + 1;
}

void GET(kiln_req *req, kiln_res *res)
{
    int64_t n = 1, seq = 0;
    kiln_query_i64(req, "queries", &n);
    kiln_query_i64(req, "seq", &seq);
    if (n < 1) n = 1;
    if (n > MAX_QUERIES) n = MAX_QUERIES;
    kiln_rows *rows[MAX_QUERIES];
    static const char sql[] = "SELECT id, title FROM posts WHERE id = ?";
    for (int64_t i = 0; i < n; i++)
        rows[i] = seq ? kiln_db_query(req, sql, next_id()) : kiln_db_send(req, sql, next_id());
    if (!seq && !kiln_db_wait(req)) return;
    kiln_jw *w = kiln_json_begin(res, 200);
    kiln_jw_array(w);
    for (int64_t i = 0; i < n; i++) kiln_jw_row(w, rows[i], 0);
    kiln_jw_end(w);
}
