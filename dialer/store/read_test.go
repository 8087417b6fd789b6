package store

import "context"

// Reads only the tests need: production code reads leads and attempts
// through the dialer's own queries.

// ListLeads returns a page of a list's leads in id order, after afterID.
func (s *Store) ListLeads(ctx context.Context, listID, afterID int64, limit int) ([]Lead, error) {
	var rows []leadRow
	err := s.db.WithContext(ctx).Raw(`SELECT `+leadCols+` FROM dialer_leads
		WHERE list_id = ? AND id > ? ORDER BY id LIMIT ?`, listID, afterID, limit).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]Lead, 0, len(rows))
	for _, r := range rows {
		l, err := r.lead()
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// CountLeads counts a list's leads.
func (s *Store) CountLeads(ctx context.Context, listID int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM dialer_leads WHERE list_id = ?`, listID).Scan(&n).Error
	return n, err
}

// Attempts returns a lead's attempt history, oldest first.
func (s *Store) Attempts(ctx context.Context, leadID int64) ([]Attempt, error) {
	var out []Attempt
	err := s.db.WithContext(ctx).Raw(`SELECT id, lead_id, campaign_id, number, outcome, channel_id, interaction_id,
		agent_id, started_at, answered_at, ended_at FROM dialer_attempts WHERE lead_id = ? ORDER BY started_at, id`,
		leadID).Scan(&out).Error
	return out, err
}
