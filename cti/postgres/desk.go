package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/ctid/ctid/cti"
)

// Admin stores for the agent's desk: quick connects (named transfer
// targets), the do-not-call list as the admin pages browse it, and lead
// list housekeeping.

// --- quick connects ------------------------------------------------------------

// QuickConnect is a named transfer target an admin defines: an agent (user
// id), a campaign's queue (campaign id), a workflow (name) or a number.
type QuickConnect struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Target string `json:"target"`
	// TargetLabel names the target for people (the agent's name, the
	// campaign's name); not stored.
	TargetLabel string `json:"targetLabel"`
}

// Validate checks a quick connect against the configuration it points at
// (users, campaigns, workflows) and normalises a number to E.164.
func (q *QuickConnect) Validate(ctx context.Context, a *Admin, region string) error {
	bad := func(field, msg string) error { return &cti.Error{Kind: cti.KindInvalid, Field: field, Msg: msg} }
	q.Name, q.Target = strings.TrimSpace(q.Name), strings.TrimSpace(q.Target)
	if q.Name == "" {
		return bad("name", "Give the quick connect a name.")
	}
	if len(q.Name) > 100 {
		return bad("name", "The name is limited to 100 characters.")
	}
	if q.Target == "" {
		return bad("target", "Choose who or what the quick connect calls.")
	}
	var n int64
	switch q.Type {
	case "agent":
		a.db.WithContext(ctx).Raw(`SELECT count(*) FROM users WHERE id::text = ? AND NOT disabled`, q.Target).Scan(&n)
		if n == 0 {
			return bad("target", "There is no such agent.")
		}
	case "queue":
		a.db.WithContext(ctx).Raw(`SELECT count(*) FROM campaigns WHERE id::text = ?`, q.Target).Scan(&n)
		if n == 0 {
			return bad("target", "There is no such campaign.")
		}
	case "workflow":
		a.db.WithContext(ctx).Raw(`SELECT count(*) FROM workflows WHERE name = ?`, q.Target).Scan(&n)
		if n == 0 {
			return bad("target", "There is no workflow with that name.")
		}
	case "number":
		e164, err := cti.NormalizeNumber(q.Target, region)
		if err != nil {
			return bad("target", "That is not a phone number.")
		}
		q.Target = e164
	default:
		return bad("type", "The type must be agent, queue, workflow or number.")
	}
	return nil
}

// QuickConnects lists the quick connects by name, with their targets named.
func (a *Admin) QuickConnects(ctx context.Context) ([]QuickConnect, error) {
	var rows []struct {
		ID                        int64
		Name, Type, Target, Label string
	}
	err := a.db.WithContext(ctx).Raw(`SELECT q.id, q.name, q.type, q.target,
		COALESCE(CASE q.type WHEN 'agent' THEN (SELECT COALESCE(NULLIF(u.display_name, ''), u.username) FROM users u WHERE u.id::text = q.target)
		                     WHEN 'queue' THEN (SELECT c.name FROM campaigns c WHERE c.id::text = q.target)
		                     ELSE q.target END, q.target) AS label
		FROM quick_connects q ORDER BY lower(q.name), q.id`).Scan(&rows).Error
	out := make([]QuickConnect, len(rows))
	for i, r := range rows {
		out[i] = QuickConnect{ID: r.ID, Name: r.Name, Type: r.Type, Target: r.Target, TargetLabel: r.Label}
	}
	return out, err
}

// QuickConnect returns one quick connect.
func (a *Admin) QuickConnect(ctx context.Context, id int64) (QuickConnect, error) {
	l, err := a.QuickConnects(ctx)
	if err != nil {
		return QuickConnect{}, err
	}
	for _, q := range l {
		if q.ID == id {
			return q, nil
		}
	}
	return QuickConnect{}, &cti.Error{Kind: cti.KindNotFound, Msg: "There is no such quick connect."}
}

// SaveQuickConnect creates (id 0) or replaces a quick connect.
func (a *Admin) SaveQuickConnect(ctx context.Context, id int64, q QuickConnect, region string) (QuickConnect, error) {
	if err := q.Validate(ctx, a, region); err != nil {
		return q, err
	}
	var dup int64
	a.db.WithContext(ctx).Raw(`SELECT count(*) FROM quick_connects WHERE lower(name) = lower(?) AND id <> ?`, q.Name, id).Scan(&dup)
	if dup > 0 {
		return q, &cti.Error{Kind: cti.KindConflict, Field: "name", Msg: "A quick connect called '" + q.Name + "' already exists."}
	}
	if id == 0 {
		err := a.db.WithContext(ctx).Raw(`INSERT INTO quick_connects(name, type, target) VALUES (?, ?, ?) RETURNING id`,
			q.Name, q.Type, q.Target).Scan(&id).Error
		if err != nil {
			return q, dbErr(err, "quick connect")
		}
	} else {
		res := a.db.WithContext(ctx).Exec(`UPDATE quick_connects SET name = ?, type = ?, target = ?, updated_at = now() WHERE id = ?`,
			q.Name, q.Type, q.Target, id)
		if res.Error != nil {
			return q, dbErr(res.Error, "quick connect")
		}
		if res.RowsAffected == 0 {
			return q, &cti.Error{Kind: cti.KindNotFound, Msg: "There is no such quick connect."}
		}
	}
	return a.QuickConnect(ctx, id)
}

// DeleteQuickConnect removes a quick connect.
func (a *Admin) DeleteQuickConnect(ctx context.Context, id int64) error {
	res := a.db.WithContext(ctx).Exec(`DELETE FROM quick_connects WHERE id = ?`, id)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return &cti.Error{Kind: cti.KindNotFound, Msg: "There is no such quick connect."}
	}
	return nil
}

// --- do-not-call ------------------------------------------------------------------

// DNCEntry is one number on a do-not-call list (campaignId nil: every
// campaign).
type DNCEntry struct {
	ID         int64     `json:"-"`
	Number     string    `json:"number"`
	CampaignID *int64    `json:"campaignId"`
	Reason     string    `json:"reason"`
	AddedBy    string    `json:"addedBy"`
	AddedAt    time.Time `json:"addedAt"`
}

// DNCPage is one page of a do-not-call search.
type DNCPage struct {
	Items []DNCEntry `json:"items"`
	Next  string     `json:"next"` // cursor for the next page, "" at the end
}

// DNCSearch lists do-not-call numbers, newest first, optionally those
// containing q (digits) and those of one campaign (campaignID > 0; 0 = all,
// -1 = the global list only).
func (a *Admin) DNCSearch(ctx context.Context, q string, campaignID int64, cursor int64, limit int) (DNCPage, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	db := a.db.WithContext(ctx).Table("dialer_dnc").Select("id, number, campaign_id, reason, added_by, added_at")
	if digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q); digits != "" {
		db = db.Where("number LIKE ?", "%"+digits+"%")
	}
	switch {
	case campaignID > 0:
		db = db.Where("campaign_id = ?", campaignID)
	case campaignID < 0:
		db = db.Where("campaign_id IS NULL")
	}
	if cursor > 0 {
		db = db.Where("id < ?", cursor)
	}
	var rows []DNCEntry
	if err := db.Order("id DESC").Limit(limit + 1).Scan(&rows).Error; err != nil {
		return DNCPage{}, err
	}
	p := DNCPage{Items: rows}
	if p.Items == nil {
		p.Items = []DNCEntry{}
	}
	if len(rows) > limit {
		p.Items = rows[:limit]
		p.Next = itoa64(rows[limit-1].ID)
	}
	return p, nil
}

// AddDNC puts numbers on a campaign's list (campaignID 0: every campaign),
// recording why and who; a number already there keeps its first entry. It
// returns how many were new.
func (a *Admin) AddDNC(ctx context.Context, campaignID int64, reason, by string, numbers ...string) (int, error) {
	var cid *int64
	if campaignID > 0 {
		cid = &campaignID
	}
	added := 0
	for _, n := range numbers {
		res := a.db.WithContext(ctx).Exec(`INSERT INTO dialer_dnc(number, campaign_id, reason, added_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (number, COALESCE(campaign_id, 0)) DO NOTHING`, n, cid, reason, by)
		if res.Error != nil {
			return added, res.Error
		}
		added += int(res.RowsAffected)
	}
	return added, nil
}

// --- lead lists ---------------------------------------------------------------------

// LeadListState pauses (active false) or resumes a lead list.
func (a *Admin) LeadListState(ctx context.Context, id int64, active bool) error {
	res := a.db.WithContext(ctx).Exec(`UPDATE dialer_lead_lists SET active = ? WHERE id = ?`, active, id)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return &cti.Error{Kind: cti.KindNotFound, Msg: "There is no such lead list."}
	}
	return nil
}

// DeleteLeadList removes a lead list with its leads and their attempts;
// the calls' interactions and recordings stay.
func (a *Admin) DeleteLeadList(ctx context.Context, id int64) error {
	var dialling int64
	a.db.WithContext(ctx).Raw(`SELECT count(*) FROM dialer_leads WHERE list_id = ? AND status = 'dialling'`, id).Scan(&dialling)
	if dialling > 0 {
		return &cti.Error{Kind: cti.KindConflict, Msg: "A lead of this list is being called right now. Pause the list, wait for the call to end, then delete it."}
	}
	res := a.db.WithContext(ctx).Exec(`DELETE FROM dialer_lead_lists WHERE id = ?`, id)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return &cti.Error{Kind: cti.KindNotFound, Msg: "There is no such lead list."}
	}
	return nil
}

// LeadListUploadedBefore names the list a file with this hash was uploaded
// to on the campaign before ("" if never).
func (a *Admin) LeadListUploadedBefore(ctx context.Context, campaignID int64, hash string) (string, error) {
	var name []string
	err := a.db.WithContext(ctx).Raw(`SELECT name FROM dialer_lead_lists WHERE campaign_id = ? AND file_hash = ? ORDER BY id LIMIT 1`,
		campaignID, hash).Scan(&name).Error
	if err != nil || len(name) == 0 {
		return "", err
	}
	return name[0], nil
}

// SetLeadListHash records the uploaded file's hash on its list.
func (a *Admin) SetLeadListHash(ctx context.Context, listID int64, hash string) error {
	return a.db.WithContext(ctx).Exec(`UPDATE dialer_lead_lists SET file_hash = ? WHERE id = ?`, hash, listID).Error
}
