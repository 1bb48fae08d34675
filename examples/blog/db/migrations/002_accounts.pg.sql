-- Accounts that can log in (the lesson's store.accounts). Emails are stored
-- lower-cased; UNIQUE makes a second signup with one address a conflict (409)
-- without a check-then-insert race.
CREATE TABLE accounts (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL
);
