-- Reports (issue 13): each agent's state at the start of a report is their
-- last change before it, found by (user_id, at) without reading the month.
CREATE INDEX agent_state_history_user_at ON agent_state_history(user_id, at);
