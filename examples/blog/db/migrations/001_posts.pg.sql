CREATE TABLE posts (
    id      BIGSERIAL PRIMARY KEY,
    title   TEXT NOT NULL,
    content TEXT NOT NULL
);
