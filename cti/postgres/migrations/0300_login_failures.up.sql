-- Failed logins, per key (a username or a client address), so the login
-- limiter survives a restart and is shared by every ctid instance on the
-- database. Rows older than the limiter's window are deleted as it goes.
CREATE TABLE login_failures (
    key  TEXT NOT NULL,
    at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures(key, at);
CREATE INDEX login_failures_at ON login_failures(at);
