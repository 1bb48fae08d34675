CREATE TABLE posts (
    id      BIGSERIAL PRIMARY KEY,
    title   TEXT NOT NULL,
    content TEXT NOT NULL
);
INSERT INTO posts (title, content)
SELECT 'Post ' || i, 'Body of post ' || i FROM generate_series(1, 10000) AS i;
