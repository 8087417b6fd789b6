package api

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/dialer/leads"
)

// The agent's desk (issue 15): in-call controls (hold, mute, keypad, drop a
// party), the transfer directory with quick connects, what the "I call the
// system" screen shows, and the admin's quick connects, do-not-call list and
// lead list housekeeping.

// DeskOptions is what the adaptor's configuration route reports.
type DeskOptions struct {
	// AgentCallsNumber is the number agents dial to connect their phone
	// ("I call the system"); default 8000, as in asterisk-conf.
	AgentCallsNumber string
	// SalesforceOrigin is the Salesforce (Open CTI) origin the adaptor
	// talks to when framed, from configuration.
	SalesforceOrigin string
	// DefaultCallerID is the caller id outbound calls without a campaign
	// present (CTID_DEFAULT_CALLER_ID).
	DefaultCallerID string
	// SIPWebsocketURL is where browser phones reach Asterisk's
	// SIP-over-WebSocket (CTID_SIP_WS_URL, e.g. wss://pbx.example.com/ws);
	// empty: ws://<the host the page came from>:8088/ws.
	SIPWebsocketURL string
}

// AgentConfig is GET /api/v1/agent/config.
type AgentConfig struct {
	AgentCallsNumber string `json:"agentCallsNumber"`
	SalesforceOrigin string `json:"salesforceOrigin"`
	DefaultCallerID  string `json:"defaultCallerId"`
}

// DirectoryView is GET /api/v1/agent/directory.
type DirectoryView struct {
	Agents        []cti.DirectoryAgent    `json:"agents"`
	QuickConnects []postgres.QuickConnect `json:"quickConnects"`
	Queues        []cti.DirectoryQueue    `json:"queues"`
}

func (s *Server) deskRoutes(ag, adm fiber.Router) {
	ag.Get("/config", s.agentConfig)
	ag.Post("/browser-phone", s.browserPhone)
	ag.Get("/directory", s.agentDirectory)
	ag.Post("/hold", s.agentControl(func(s *Server, c *fiber.Ctx, uid int64) error { return s.eng.Hold(c.UserContext(), uid) }))
	ag.Post("/resume", s.agentControl(func(s *Server, c *fiber.Ctx, uid int64) error { return s.eng.Resume(c.UserContext(), uid) }))
	ag.Post("/mute", s.agentControl(func(s *Server, c *fiber.Ctx, uid int64) error { return s.eng.Mute(c.UserContext(), uid, true) }))
	ag.Post("/unmute", s.agentControl(func(s *Server, c *fiber.Ctx, uid int64) error { return s.eng.Mute(c.UserContext(), uid, false) }))
	ag.Post("/dtmf", s.agentDTMF)
	ag.Post("/conference/parties/:partyId/drop", s.agentDropParty)

	adm.Get("/quick-connects", s.listQuickConnects)
	adm.Post("/quick-connects", s.saveQuickConnect)
	adm.Put("/quick-connects/:id", s.saveQuickConnect)
	adm.Delete("/quick-connects/:id", s.deleteQuickConnect)
	adm.Get("/dnc", s.searchDNC)
	adm.Post("/dnc/import", s.importDNC)
	adm.Get("/lead-lists/:id/leads", s.browseLeadList)
	adm.Post("/lead-lists/:id/pause", s.leadListActive(false))
	adm.Post("/lead-lists/:id/resume", s.leadListActive(true))
	adm.Delete("/lead-lists/:id", s.deleteLeadList)
}

func (s *Server) agentConfig(c *fiber.Ctx) error {
	d := s.o.Desk
	if d.AgentCallsNumber == "" {
		d.AgentCallsNumber = "8000"
	}
	return c.JSON(AgentConfig{AgentCallsNumber: d.AgentCallsNumber, SalesforceOrigin: d.SalesforceOrigin, DefaultCallerID: d.DefaultCallerID})
}

// agentControl is a body-less in-call control answering 204.
func (s *Server) agentControl(f func(s *Server, c *fiber.Ctx, uid int64) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := decode(c, &struct{}{}, true); err != nil {
			return err
		}
		ctx, cancel := s.ctx(c)
		defer cancel()
		c.SetUserContext(ctx)
		if err := f(s, c, currentUser(c).ID); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

type dtmfRequest struct {
	Digits *string `json:"digits"`
}

func (s *Server) agentDTMF(c *fiber.Ctx) error {
	var req dtmfRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	if req.Digits == nil || *req.Digits == "" {
		return badField("digits", "Type the digits to send: 0-9, *, # or A-D.")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.SendDTMF(ctx, currentUser(c).ID, *req.Digits); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) agentDropParty(c *fiber.Ctx) error {
	if err := decode(c, &struct{}{}, true); err != nil {
		return err
	}
	id := c.Params("partyId")
	if id == "" || len(id) > 128 {
		return newProblem(404, "That person is not in this conference.")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.eng.DropParty(ctx, currentUser(c).ID, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) agentDirectory(c *fiber.Ctx) error {
	q := c.Query("q")
	if len(q) > 100 {
		return badField("q", "The search is limited to 100 characters.")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	d, err := s.eng.AgentDirectory(ctx, currentUser(c).ID, q)
	if err != nil {
		return err
	}
	qc, err := s.admin.QuickConnects(ctx)
	if err != nil {
		return err
	}
	return c.JSON(DirectoryView{Agents: d.Agents, QuickConnects: qc, Queues: d.Queues})
}

// --- admin: quick connects ---------------------------------------------------------

func (s *Server) listQuickConnects(c *fiber.Ctx) error {
	ctx, cancel := s.ctx(c)
	defer cancel()
	l, err := s.admin.QuickConnects(ctx)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

type quickConnectRequest struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Target string `json:"target"`
}

func (s *Server) saveQuickConnect(c *fiber.Ctx) error {
	var id int64
	if c.Params("id") != "" {
		var err error
		if id, err = idParam(c); err != nil {
			return err
		}
	}
	var req quickConnectRequest
	if err := decode(c, &req, false); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	q, err := s.admin.SaveQuickConnect(ctx, id, postgres.QuickConnect{Name: req.Name, Type: req.Type, Target: req.Target}, s.region())
	if err != nil {
		return err
	}
	if id == 0 {
		c.Location("/api/v1/admin/quick-connects/" + strconv.FormatInt(q.ID, 10))
		return c.Status(fiber.StatusCreated).JSON(q)
	}
	return c.JSON(q)
}

func (s *Server) deleteQuickConnect(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.admin.DeleteQuickConnect(ctx, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// region is the default region for numbers typed without a country code.
func (s *Server) region() string {
	if s.o.DefaultRegion != "" {
		return s.o.DefaultRegion
	}
	return "GB"
}

// --- admin: do-not-call -------------------------------------------------------------

func (s *Server) searchDNC(c *fiber.Ctx) error {
	q := c.Query("q")
	if len(q) > 64 {
		return badField("q", "The search is limited to 64 characters.")
	}
	var cid, cursor int64
	if v := c.Query("campaignId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < -1 {
			return badField("campaignId", "campaignId is a campaign's id (or -1 for the list that applies to every campaign).")
		}
		cid = n
	}
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return badField("cursor", "Use the cursor from the previous page's next.")
		}
		cursor = n
	}
	limit := 100
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return badField("limit", "limit is 1 to 500.")
		}
		limit = n
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	p, err := s.admin.DNCSearch(ctx, q, cid, cursor, limit)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// DNCImportResult is POST /api/v1/admin/dnc/import.
type DNCImportResult struct {
	Added   int              `json:"added"`
	Skipped int              `json:"skipped"` // already on the list
	Errors  []DNCImportError `json:"errors"`
}

// DNCImportError is one refused row.
type DNCImportError struct {
	Row   int    `json:"row"`
	Error string `json:"error"`
}

// maxDNCImportRows bounds one import.
const maxDNCImportRows = 100000

// importDNC takes a multipart form: file (CSV, the number in the first
// column; a header row is skipped), optional campaignId and reason.
func (s *Server) importDNC(c *fiber.Ctx) error {
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt != "multipart/form-data" {
		return newProblem(415, "Send the CSV file as multipart/form-data in the field 'file'.")
	}
	form, err := c.MultipartForm()
	if err != nil {
		return newProblem(400, "The upload could not be read. Send the CSV file in the field 'file'.")
	}
	defer form.RemoveAll()
	value := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	reason := value("reason")
	if len(reason) > 200 {
		return badField("reason", "The reason is limited to 200 characters.")
	}
	files := form.File["file"]
	if len(files) != 1 {
		return badField("file", "Send one CSV file in the field 'file'.")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	region := s.region()
	var cid int64
	if v := value("campaignId"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return badField("campaignId", "campaignId is a campaign's id.")
		}
		camp, err := s.admin.Campaign(ctx, n)
		if cti.KindOf(err) == cti.KindNotFound {
			return badField("campaignId", fmt.Sprintf("There is no campaign %d.", n))
		} else if err != nil {
			return err
		}
		cid = n
		if camp.DefaultRegion != "" {
			region = camp.DefaultRegion
		}
	}
	f, err := files[0].Open()
	if err != nil {
		return newProblem(400, "The uploaded file could not be read.")
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	res := DNCImportResult{Errors: []DNCImportError{}}
	var nums []string
	for row := 1; ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.Errors = append(res.Errors, DNCImportError{Row: row, Error: "This row is not valid CSV."})
			continue
		}
		if row > maxDNCImportRows {
			return badField("file", fmt.Sprintf("The file has more than %d rows; split it.", maxDNCImportRows))
		}
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" {
			continue
		}
		raw := strings.TrimSpace(rec[0])
		e164, err := leads.Normalize(raw, region)
		if err != nil {
			if row == 1 && !strings.ContainsAny(raw, "0123456789") {
				continue // a header
			}
			res.Errors = append(res.Errors, DNCImportError{Row: row, Error: fmt.Sprintf("%q is not a phone number.", raw)})
			continue
		}
		nums = append(nums, e164)
	}
	added, err := s.admin.AddDNC(ctx, cid, reason, currentUser(c).Username, nums...)
	if err != nil {
		return err
	}
	res.Added, res.Skipped = added, len(nums)-added
	return c.JSON(res)
}

// --- admin: lead lists ---------------------------------------------------------------

// LeadPage is GET /api/v1/admin/lead-lists/{id}/leads.
type LeadPage struct {
	Items []LeadRow `json:"items"`
	Next  string    `json:"next"`
	Total int64     `json:"total"`
}

// LeadRow is one lead as the admin browses it.
type LeadRow struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	ExternalID  string `json:"externalId"`
	Phone1      string `json:"phone1"`
	Phone2      string `json:"phone2"`
	Phone3      string `json:"phone3"`
	Status      string `json:"status"`
	Attempts    int    `json:"attempts"`
	LastOutcome string `json:"lastOutcome"`
}

func (s *Server) browseLeadList(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var cursor int64
	if v := c.Query("cursor"); v != "" {
		if cursor, err = strconv.ParseInt(v, 10, 64); err != nil || cursor < 0 {
			return badField("cursor", "Use the cursor from the previous page's next.")
		}
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	var n int64
	if err := s.o.DB.WithContext(ctx).Raw(`SELECT count(*) FROM dialer_lead_lists WHERE id = ?`, id).Scan(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return newProblem(404, "There is no such lead list.")
	}
	const limit = 100
	var rows []LeadRow
	if err := s.o.DB.WithContext(ctx).Raw(`SELECT id, name, external_id, phone1, phone2, phone3, status, attempts, last_outcome
		FROM dialer_leads WHERE list_id = ? AND id > ? ORDER BY id LIMIT ?`, id, cursor, limit+1).Scan(&rows).Error; err != nil {
		return err
	}
	p := LeadPage{Items: rows}
	if p.Items == nil {
		p.Items = []LeadRow{}
	}
	if len(rows) > limit {
		p.Items = rows[:limit]
		p.Next = strconv.FormatInt(rows[limit-1].ID, 10)
	}
	s.o.DB.WithContext(ctx).Raw(`SELECT count(*) FROM dialer_leads WHERE list_id = ?`, id).Scan(&p.Total)
	return c.JSON(p)
}

func (s *Server) leadListActive(active bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c)
		if err != nil {
			return err
		}
		if err := decode(c, &struct{}{}, true); err != nil {
			return err
		}
		ctx, cancel := s.ctx(c)
		defer cancel()
		if err := s.admin.LeadListState(ctx, id, active); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

func (s *Server) deleteLeadList(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.admin.DeleteLeadList(ctx, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
