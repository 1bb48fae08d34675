-- The practice task's users (the lesson's store.users): an email is used by
-- at most one user (409 "Email already exists").
CREATE TABLE users (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    name  TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE
);
