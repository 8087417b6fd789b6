package postgres

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/cti"
)

// --- campaigns ---------------------------------------------------------------

// CampaignRecord is a campaign as the admin API reads and writes it: every
// column of the campaigns table plus its DIDs, wrap codes and agents.
type CampaignRecord struct {
	ID                int64           `json:"id"`
	Name              string          `json:"name"`
	Kind              string          `json:"kind"`
	PlatformNumber    string          `json:"platformNumber"`
	DefaultRegion     string          `json:"defaultRegion"`
	Recording         bool            `json:"recording"`
	WrapLimitSeconds  int             `json:"wrapLimitSeconds"`
	DefaultWrapCode   string          `json:"defaultWrapCode"`
	ExtendWrapSeconds int             `json:"extendWrapSeconds"`
	MaxQueueSeconds   int             `json:"maxQueueSeconds"`
	OverflowContext   string          `json:"overflowContext"`
	OverflowExtension string          `json:"overflowExtension"`
	PaymentEnabled    bool            `json:"paymentEnabled"`
	Settings          json.RawMessage `json:"settings"`
	CreatedAt         time.Time       `json:"createdAt"`
	DIDs              []string        `json:"dids"`
	WrapCodes         []cti.WrapCode  `json:"wrapCodes"`
	AgentIDs          []int64         `json:"agentIds"`
}

type campaignRecRow struct {
	ID                int64
	Name              string
	Kind              string
	PlatformNumber    string
	DefaultRegion     string
	Recording         bool
	WrapLimitSeconds  int
	DefaultWrapCode   string
	ExtendWrapSeconds int
	MaxQueueSeconds   int
	OverflowContext   string
	OverflowExtension string
	PaymentEnabled    bool
	Settings          string
	CreatedAt         time.Time
}

func (campaignRecRow) TableName() string { return "campaigns" }

// Validate checks a campaign before it is written and fills defaults.
func (c *CampaignRecord) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	bad := func(field, msg string) error { return &cti.Error{Kind: cti.KindInvalid, Field: field, Msg: msg} }
	switch {
	case c.Name == "":
		return bad("name", "name is required")
	case len(c.Name) > 200:
		return bad("name", "name is limited to 200 characters")
	case c.WrapLimitSeconds < 0 || c.WrapLimitSeconds > 86400:
		return bad("wrapLimitSeconds", "wrapLimitSeconds must be between 0 and 86400")
	case c.ExtendWrapSeconds < 0 || c.ExtendWrapSeconds > 86400:
		return bad("extendWrapSeconds", "extendWrapSeconds must be between 0 and 86400")
	case c.MaxQueueSeconds < 0 || c.MaxQueueSeconds > 86400:
		return bad("maxQueueSeconds", "maxQueueSeconds must be between 0 and 86400")
	}
	if c.Kind == "" {
		c.Kind = "inbound"
	}
	if c.Kind != "inbound" && c.Kind != "outbound" {
		return bad("kind", "kind must be inbound or outbound")
	}
	if c.DefaultRegion == "" {
		c.DefaultRegion = "GB"
	}
	if len(c.DefaultRegion) != 2 {
		return bad("defaultRegion", "defaultRegion must be a two-letter ISO 3166 code")
	}
	c.DefaultRegion = strings.ToUpper(c.DefaultRegion)
	if c.OverflowExtension == "" {
		c.OverflowExtension = "s"
	}
	if len(c.Settings) == 0 || string(c.Settings) == "null" {
		c.Settings = json.RawMessage(`{}`)
	}
	var obj map[string]any
	if err := json.Unmarshal(c.Settings, &obj); err != nil {
		return bad("settings", "settings must be a JSON object")
	}
	if mx, ok := obj["maxConferenceParties"]; ok {
		if n, isNum := mx.(float64); !isNum || n != float64(int(n)) || n < 1 || n > 10 {
			return bad("settings.maxConferenceParties", "maxConferenceParties is how many people may join a call besides the agent and the customer: a whole number from 1 to 10")
		}
	}
	if p := strings.TrimSpace(c.PlatformNumber); p != "" {
		e164, err := cti.NormalizePlatformNumber(p, c.DefaultRegion)
		if err != nil {
			return bad("platformNumber", "The platform number '"+p+"' is not a phone number; give it in E.164, such as +442071234567.")
		}
		c.PlatformNumber = e164
	}
	seen := map[string]bool{}
	for i, d := range c.DIDs {
		d = strings.TrimSpace(d)
		if d == "" {
			return bad("dids", "a DID must not be empty")
		}
		// DIDs are matched in E.164 (the engine normalises what the
		// dialplan hands over the same way).
		e164, err := cti.NormalizePlatformNumber(d, c.DefaultRegion)
		if err != nil {
			return bad("dids", "The DID '"+d+"' is not a phone number; give it in E.164, such as +442071234567.")
		}
		d = e164
		if seen[d] {
			return bad("dids", "DID "+d+" is listed twice")
		}
		seen[d] = true
		c.DIDs[i] = d
	}
	codes := map[string]bool{}
	for _, w := range c.WrapCodes {
		if strings.TrimSpace(w.Code) == "" {
			return bad("wrapCodes", "a wrap code must not be empty")
		}
		if codes[w.Code] {
			return bad("wrapCodes", "wrap code "+w.Code+" is listed twice")
		}
		codes[w.Code] = true
	}
	if c.DefaultWrapCode != "" && !codes[c.DefaultWrapCode] {
		return bad("defaultWrapCode", "defaultWrapCode must be one of the campaign's wrap codes")
	}
	if c.WrapLimitSeconds > 0 && len(c.WrapCodes) > 0 && c.DefaultWrapCode == "" {
		return bad("defaultWrapCode", "auto-wrap needs a defaultWrapCode")
	}
	agents := map[int64]bool{}
	out := c.AgentIDs[:0]
	for _, id := range c.AgentIDs {
		if !agents[id] {
			agents[id] = true
			out = append(out, id)
		}
	}
	c.AgentIDs = out
	return nil
}

func (c *CampaignRecord) row() campaignRecRow {
	return campaignRecRow{ID: c.ID, Name: c.Name, Kind: c.Kind, PlatformNumber: c.PlatformNumber,
		DefaultRegion: c.DefaultRegion, Recording: c.Recording, WrapLimitSeconds: c.WrapLimitSeconds,
		DefaultWrapCode: c.DefaultWrapCode, ExtendWrapSeconds: c.ExtendWrapSeconds,
		MaxQueueSeconds: c.MaxQueueSeconds, OverflowContext: c.OverflowContext,
		OverflowExtension: c.OverflowExtension, PaymentEnabled: c.PaymentEnabled, Settings: string(c.Settings)}
}

func (r campaignRecRow) record() CampaignRecord {
	return CampaignRecord{ID: r.ID, Name: r.Name, Kind: r.Kind, PlatformNumber: r.PlatformNumber,
		DefaultRegion: r.DefaultRegion, Recording: r.Recording, WrapLimitSeconds: r.WrapLimitSeconds,
		DefaultWrapCode: r.DefaultWrapCode, ExtendWrapSeconds: r.ExtendWrapSeconds,
		MaxQueueSeconds: r.MaxQueueSeconds, OverflowContext: r.OverflowContext,
		OverflowExtension: r.OverflowExtension, PaymentEnabled: r.PaymentEnabled,
		Settings: json.RawMessage(r.Settings), CreatedAt: r.CreatedAt,
		DIDs: []string{}, WrapCodes: []cti.WrapCode{}, AgentIDs: []int64{}}
}

// Campaigns lists every campaign with its children, ordered by id.
func (a *Admin) Campaigns(ctx context.Context) ([]CampaignRecord, error) {
	return a.campaigns(ctx, a.db.WithContext(ctx), nil)
}

// Campaign returns one campaign.
func (a *Admin) Campaign(ctx context.Context, id int64) (CampaignRecord, error) {
	l, err := a.campaigns(ctx, a.db.WithContext(ctx), &id)
	if err != nil {
		return CampaignRecord{}, err
	}
	if len(l) == 0 {
		return CampaignRecord{}, &cti.Error{Kind: cti.KindNotFound, Msg: "no such campaign"}
	}
	return l[0], nil
}

func (a *Admin) campaigns(ctx context.Context, db *gorm.DB, id *int64) ([]CampaignRecord, error) {
	q := db.Select("id, name, kind, platform_number, default_region, recording, wrap_limit_seconds, " +
		"default_wrap_code, extend_wrap_seconds, max_queue_seconds, overflow_context, overflow_extension, " +
		"payment_enabled, settings::text AS settings, created_at").Order("id")
	if id != nil {
		q = q.Where("id = ?", *id)
	}
	var rows []campaignRecRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]CampaignRecord, len(rows))
	idx := map[int64]int{}
	for i, r := range rows {
		out[i] = r.record()
		idx[r.ID] = i
	}
	child := func(table string) *gorm.DB {
		q := db.Table(table)
		if id != nil {
			q = q.Where("campaign_id = ?", *id)
		}
		return q
	}
	var dids []struct {
		DID        string `gorm:"column:did"`
		CampaignID int64
	}
	if err := child("campaign_dids").Order("did").Find(&dids).Error; err != nil {
		return nil, err
	}
	for _, d := range dids {
		if i, ok := idx[d.CampaignID]; ok {
			out[i].DIDs = append(out[i].DIDs, d.DID)
		}
	}
	var codes []struct {
		CampaignID  int64
		Code, Label string
	}
	if err := child("wrap_codes").Order("id").Find(&codes).Error; err != nil {
		return nil, err
	}
	for _, w := range codes {
		if i, ok := idx[w.CampaignID]; ok {
			out[i].WrapCodes = append(out[i].WrapCodes, cti.WrapCode{Code: w.Code, Label: w.Label})
		}
	}
	var members []struct{ CampaignID, UserID int64 }
	if err := child("campaign_agents").Order("user_id").Find(&members).Error; err != nil {
		return nil, err
	}
	for _, m := range members {
		if i, ok := idx[m.CampaignID]; ok {
			out[i].AgentIDs = append(out[i].AgentIDs, m.UserID)
		}
	}
	return out, nil
}

// CreateCampaign validates and stores a campaign with its children.
func (a *Admin) CreateCampaign(ctx context.Context, c CampaignRecord) (CampaignRecord, error) {
	if err := c.Validate(); err != nil {
		return CampaignRecord{}, err
	}
	row := c.row()
	row.ID = 0
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Omit("created_at").Create(&row).Error; err != nil {
			return dbErr(err, "campaign")
		}
		return writeChildren(tx, row.ID, &c)
	})
	if err != nil {
		return CampaignRecord{}, err
	}
	return a.Campaign(ctx, row.ID)
}

// UpdateCampaign replaces a campaign (fields and children) as a whole.
func (a *Admin) UpdateCampaign(ctx context.Context, id int64, c CampaignRecord) (CampaignRecord, error) {
	if err := c.Validate(); err != nil {
		return CampaignRecord{}, err
	}
	row := c.row()
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&campaignRecRow{}).Where("id = ?", id).Select("name", "kind", "platform_number",
			"default_region", "recording", "wrap_limit_seconds", "default_wrap_code", "extend_wrap_seconds",
			"max_queue_seconds", "overflow_context", "overflow_extension", "payment_enabled", "settings").
			Updates(map[string]any{
				"name": row.Name, "kind": row.Kind, "platform_number": row.PlatformNumber,
				"default_region": row.DefaultRegion, "recording": row.Recording,
				"wrap_limit_seconds": row.WrapLimitSeconds, "default_wrap_code": row.DefaultWrapCode,
				"extend_wrap_seconds": row.ExtendWrapSeconds, "max_queue_seconds": row.MaxQueueSeconds,
				"overflow_context": row.OverflowContext, "overflow_extension": row.OverflowExtension,
				"payment_enabled": row.PaymentEnabled, "settings": gorm.Expr("?::jsonb", row.Settings),
			})
		if res.Error != nil {
			return dbErr(res.Error, "campaign")
		}
		if res.RowsAffected == 0 {
			return &cti.Error{Kind: cti.KindNotFound, Msg: "no such campaign"}
		}
		for _, t := range []string{"campaign_dids", "wrap_codes", "campaign_agents"} {
			if err := tx.Exec("DELETE FROM "+t+" WHERE campaign_id = ?", id).Error; err != nil {
				return err
			}
		}
		return writeChildren(tx, id, &c)
	})
	if err != nil {
		return CampaignRecord{}, err
	}
	return a.Campaign(ctx, id)
}

func writeChildren(tx *gorm.DB, id int64, c *CampaignRecord) error {
	for _, d := range c.DIDs {
		if err := tx.Exec(`INSERT INTO campaign_dids(did, campaign_id) VALUES (?, ?)`, d, id).Error; err != nil {
			return dbErr(err, "DID "+d)
		}
	}
	for _, w := range c.WrapCodes {
		if err := tx.Exec(`INSERT INTO wrap_codes(campaign_id, code, label) VALUES (?, ?, ?)`, id, w.Code, w.Label).Error; err != nil {
			return dbErr(err, "wrap code")
		}
	}
	for _, u := range c.AgentIDs {
		if err := tx.Exec(`INSERT INTO campaign_agents(campaign_id, user_id) VALUES (?, ?)`, id, u).Error; err != nil {
			if e := dbErr(err, "agent"); cti.KindOf(e) == cti.KindInvalid {
				return &cti.Error{Kind: cti.KindInvalid, Field: "agentIds", Msg: "no user with id " + itoa64(u)}
			}
			return dbErr(err, "agent")
		}
	}
	return nil
}

// DeleteCampaign removes a campaign. Campaigns with interactions cannot be
// deleted (their records refer to them): 409.
func (a *Admin) DeleteCampaign(ctx context.Context, id int64) error {
	res := a.db.WithContext(ctx).Exec(`DELETE FROM campaigns WHERE id = ?`, id)
	if res.Error != nil {
		if e := dbErr(res.Error, "campaign"); cti.KindOf(e) == cti.KindInvalid {
			return &cti.Error{Kind: cti.KindConflict, Msg: "the campaign has interactions and cannot be deleted"}
		}
		return dbErr(res.Error, "campaign")
	}
	if res.RowsAffected == 0 {
		return &cti.Error{Kind: cti.KindNotFound, Msg: "no such campaign"}
	}
	return nil
}

// --- pause reasons -------------------------------------------------------------

// PauseReasonRecord is one pause reason. System reasons (Auto Pause,
// Logged in) are set by ctid and cannot be edited or deleted.
type PauseReasonRecord struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	System bool   `json:"system"`
}

// PauseReasons lists reasons; with agentOnly, only those agents may choose.
func (a *Admin) PauseReasons(ctx context.Context, agentOnly bool) ([]PauseReasonRecord, error) {
	q := a.db.WithContext(ctx).Table("pause_reasons").Order("id")
	if agentOnly {
		q = q.Where("NOT system")
	}
	out := []PauseReasonRecord{}
	return out, q.Find(&out).Error
}

func checkReasonName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", &cti.Error{Kind: cti.KindInvalid, Field: "name", Msg: "name is required"}
	}
	if len(name) > 100 {
		return "", &cti.Error{Kind: cti.KindInvalid, Field: "name", Msg: "name is limited to 100 characters"}
	}
	return name, nil
}

// CreatePauseReason adds an agent-selectable reason.
func (a *Admin) CreatePauseReason(ctx context.Context, name string) (PauseReasonRecord, error) {
	name, err := checkReasonName(name)
	if err != nil {
		return PauseReasonRecord{}, err
	}
	r := PauseReasonRecord{Name: name}
	err = a.db.WithContext(ctx).Raw(`INSERT INTO pause_reasons(name) VALUES (?) RETURNING id, name, system`, name).Scan(&r).Error
	if err != nil {
		return PauseReasonRecord{}, dbErr(err, "pause reason")
	}
	return r, nil
}

func (a *Admin) pauseReason(ctx context.Context, id int64) (PauseReasonRecord, error) {
	var r PauseReasonRecord
	err := a.db.WithContext(ctx).Table("pause_reasons").Where("id = ?", id).Take(&r).Error
	if err != nil {
		return r, dbErr(err, "pause reason")
	}
	if r.System {
		return r, &cti.Error{Kind: cti.KindConflict, Msg: "system pause reasons cannot be changed"}
	}
	return r, nil
}

// RenamePauseReason renames a non-system reason.
func (a *Admin) RenamePauseReason(ctx context.Context, id int64, name string) (PauseReasonRecord, error) {
	name, err := checkReasonName(name)
	if err != nil {
		return PauseReasonRecord{}, err
	}
	r, err := a.pauseReason(ctx, id)
	if err != nil {
		return r, err
	}
	if err := a.db.WithContext(ctx).Exec(`UPDATE pause_reasons SET name = ? WHERE id = ?`, name, id).Error; err != nil {
		return r, dbErr(err, "pause reason")
	}
	r.Name = name
	return r, nil
}

// DeletePauseReason removes a non-system reason.
func (a *Admin) DeletePauseReason(ctx context.Context, id int64) error {
	if _, err := a.pauseReason(ctx, id); err != nil {
		return err
	}
	return a.db.WithContext(ctx).Exec(`DELETE FROM pause_reasons WHERE id = ?`, id).Error
}

// --- workflows ---------------------------------------------------------------

// WorkflowRecord is a dialplan destination (IVR, overflow, transfer target).
type WorkflowRecord struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Context   string `json:"context"`
	Extension string `json:"extension"`
	Priority  int    `json:"priority"`
}

// Validate checks a workflow and fills defaults.
func (w *WorkflowRecord) Validate() error {
	w.Name, w.Context = strings.TrimSpace(w.Name), strings.TrimSpace(w.Context)
	bad := func(field, msg string) error { return &cti.Error{Kind: cti.KindInvalid, Field: field, Msg: msg} }
	if w.Name == "" {
		return bad("name", "name is required")
	}
	if w.Context == "" {
		return bad("context", "context is required")
	}
	if strings.ContainsAny(w.Context+w.Extension, ",()|\n\r") {
		return bad("context", "context and extension must not contain , ( ) | or newlines")
	}
	if w.Extension == "" {
		w.Extension = "s"
	}
	if w.Priority == 0 {
		w.Priority = 1
	}
	if w.Priority < 1 {
		return bad("priority", "priority must be 1 or more")
	}
	return nil
}

// Workflows lists workflows ordered by id.
func (a *Admin) Workflows(ctx context.Context) ([]WorkflowRecord, error) {
	out := []WorkflowRecord{}
	return out, a.db.WithContext(ctx).Table("workflows").Order("id").Find(&out).Error
}

// Workflow returns one workflow.
func (a *Admin) Workflow(ctx context.Context, id int64) (WorkflowRecord, error) {
	var w WorkflowRecord
	err := a.db.WithContext(ctx).Table("workflows").Where("id = ?", id).Take(&w).Error
	return w, dbErr(err, "workflow")
}

// CreateWorkflow stores a workflow.
func (a *Admin) CreateWorkflow(ctx context.Context, w WorkflowRecord) (WorkflowRecord, error) {
	if err := w.Validate(); err != nil {
		return w, err
	}
	err := a.db.WithContext(ctx).Raw(`INSERT INTO workflows(name, context, extension, priority)
		VALUES (?, ?, ?, ?) RETURNING id`, w.Name, w.Context, w.Extension, w.Priority).Scan(&w.ID).Error
	return w, dbErr(err, "workflow")
}

// UpdateWorkflow replaces a workflow.
func (a *Admin) UpdateWorkflow(ctx context.Context, id int64, w WorkflowRecord) (WorkflowRecord, error) {
	if err := w.Validate(); err != nil {
		return w, err
	}
	res := a.db.WithContext(ctx).Exec(`UPDATE workflows SET name = ?, context = ?, extension = ?, priority = ?
		WHERE id = ?`, w.Name, w.Context, w.Extension, w.Priority, id)
	if res.Error != nil {
		return w, dbErr(res.Error, "workflow")
	}
	if res.RowsAffected == 0 {
		return w, &cti.Error{Kind: cti.KindNotFound, Msg: "no such workflow"}
	}
	w.ID = id
	return w, nil
}

// DeleteWorkflow removes a workflow.
func (a *Admin) DeleteWorkflow(ctx context.Context, id int64) error {
	res := a.db.WithContext(ctx).Exec(`DELETE FROM workflows WHERE id = ?`, id)
	if res.Error != nil {
		return dbErr(res.Error, "workflow")
	}
	if res.RowsAffected == 0 {
		return &cti.Error{Kind: cti.KindNotFound, Msg: "no such workflow"}
	}
	return nil
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
