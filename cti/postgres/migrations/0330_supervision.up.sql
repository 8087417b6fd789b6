-- Supervision and quality review (issue 13): the reviewer role, which
-- campaigns each supervisor looks after, an audit of supervisor actions
-- and monitoring, and the indexes the call-history search pages with.

-- Reviewers search calls and listen to recordings; they take no calls.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('agent','supervisor','admin','reviewer'));

-- A supervisor sees (floor, history, reports) and acts on the campaigns
-- assigned here; admins assign them and see everything.
CREATE TABLE supervisor_campaigns (
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    campaign_id BIGINT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, campaign_id)
);
CREATE INDEX supervisor_campaigns_c ON supervisor_campaigns(campaign_id);

-- Every supervisor action on an agent or a call (pause, ready, log out,
-- end call) and every monitoring step (listen, whisper, barge, stop):
-- who, on whom, when, why.
CREATE TABLE supervisor_actions (
    id              BIGSERIAL PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    supervisor_id   BIGINT NOT NULL REFERENCES users(id),
    agent_id        BIGINT REFERENCES users(id),
    interaction_id  TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    outcome         TEXT NOT NULL DEFAULT 'ok'
);
CREATE INDEX supervisor_actions_i ON supervisor_actions(interaction_id) WHERE interaction_id <> '';
CREATE INDEX supervisor_actions_at ON supervisor_actions(at);

-- Call history: keyset paging runs newest first on (created_at, id); each
-- selective filter has an index that leads with it and then keeps that
-- order, so a page is an index range scan however many rows there are.
CREATE INDEX interactions_created ON interactions(created_at DESC, id DESC);
CREATE INDEX interactions_campaign_created ON interactions(campaign_id, created_at DESC, id DESC);
CREATE INDEX interactions_agent_created ON interactions(agent_id, created_at DESC, id DESC);
CREATE INDEX interactions_customer_created ON interactions(customer_number, created_at DESC, id DESC);
CREATE INDEX interactions_wrap_created ON interactions(wrap_code, created_at DESC, id DESC) WHERE wrap_code <> '';
CREATE INDEX interactions_parent ON interactions(parent_id) WHERE parent_id IS NOT NULL;
DROP INDEX IF EXISTS interactions_agent;
CREATE INDEX bookmarks_i ON bookmarks(interaction_id);
CREATE INDEX payments_i ON payments(interaction_id);
CREATE INDEX agent_state_history_at ON agent_state_history(at);
CREATE INDEX dialer_callbacks_created ON dialer_callbacks(created_at);
