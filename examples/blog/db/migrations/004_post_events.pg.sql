-- Every post created, updated or deleted, in order: the history that
-- GET /api/posts/live replays to a client reconnecting with Last-Event-ID.
CREATE TABLE post_events (
    id    BIGSERIAL PRIMARY KEY,
    event TEXT NOT NULL,
    data  TEXT NOT NULL
);
