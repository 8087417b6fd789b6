-- In-call control: transfers and conferences, recordings with their
-- pause/resume audit and bookmarks, announcements, payments.
ALTER TABLE interactions ADD COLUMN parent_id TEXT REFERENCES interactions(id);

CREATE TABLE transfers (
    id              TEXT PRIMARY KEY,
    interaction_id  TEXT NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
    agent_id        BIGINT REFERENCES users(id),
    mode            TEXT NOT NULL,      -- blind, consult, conference_add
    target_type     TEXT NOT NULL,      -- agent, workflow, number
    target          TEXT NOT NULL,
    state           TEXT NOT NULL,
    child_id        TEXT NOT NULL DEFAULT '',
    detail          TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX transfers_i ON transfers(interaction_id);

CREATE TABLE recordings (
    name            TEXT PRIMARY KEY,
    interaction_id  TEXT NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
    customer_channel TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    started_at      TIMESTAMPTZ,
    ended_at        TIMESTAMPTZ,
    duration_ms     BIGINT NOT NULL DEFAULT 0,
    format          TEXT NOT NULL DEFAULT 'wav'
);
CREATE INDEX recordings_i ON recordings(interaction_id);

-- Every pause and resume: who, when (system actions such as payment
-- capture have no user).
CREATE TABLE recording_events (
    id              BIGSERIAL PRIMARY KEY,
    recording_name  TEXT NOT NULL,
    interaction_id  TEXT NOT NULL,
    user_id         BIGINT REFERENCES users(id),
    action          TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX recording_events_r ON recording_events(recording_name, id);

CREATE TABLE bookmarks (
    id              BIGSERIAL PRIMARY KEY,
    recording_name  TEXT NOT NULL,
    interaction_id  TEXT NOT NULL,
    offset_ms       BIGINT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    user_id         BIGINT REFERENCES users(id),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX bookmarks_r ON bookmarks(recording_name, offset_ms);

CREATE TABLE announcements (
    id              BIGSERIAL PRIMARY KEY,
    campaign_id     BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    media           TEXT NOT NULL DEFAULT '',   -- an Asterisk media URI, e.g. sound:tt-monkeys
    wav             BYTEA,                      -- an uploaded file, served to Asterisk by token
    token           TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, name)
);

-- Payment outcomes. Never the card number or CVV: only brand and last four
-- (truncated PAN, allowed by PCI DSS), amount and the gateway's answer.
CREATE TABLE payments (
    id              TEXT PRIMARY KEY,
    interaction_id  TEXT NOT NULL REFERENCES interactions(id) ON DELETE CASCADE,
    agent_id        BIGINT REFERENCES users(id),
    reference       TEXT NOT NULL DEFAULT '',
    amount_minor    BIGINT NOT NULL,
    currency        TEXT NOT NULL,
    card_brand      TEXT NOT NULL DEFAULT '',
    card_last4      TEXT NOT NULL DEFAULT '',
    approved        BOOLEAN NOT NULL,
    gateway_ref     TEXT NOT NULL DEFAULT '',
    decline_reason  TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
