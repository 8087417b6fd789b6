package api

import (
	"bufio"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
)

// Call history and review (the "Call Management Module"):
//
//	GET /api/v1/history/interactions         search, keyset-paged (?cursor=)
//	GET /api/v1/history/interactions/:id     one call with everything about it
//	GET /api/v1/history/export               the same search as CSV, streamed
//
// Admins and reviewers see every call, supervisors the calls of the
// campaigns assigned to them, agents the calls they handled. A call outside
// the user's scope answers 404, like one that does not exist.

// supervisionRoutes registers history, reports and the supervisor's floor,
// actions and monitoring (issue 13).
func (s *Server) supervisionRoutes(v1, authed fiber.Router) {
	h := authed.Group("/history")
	h.Get("/interactions", s.historySearch)
	h.Get("/interactions/:id", s.historyDetail)
	h.Get("/export", s.historyExport)

	rep := authed.Group("/reports", requireRole(cti.RoleSupervisor, cti.RoleAdmin, cti.RoleReviewer))
	rep.Get("/agents", s.reportAgents)
	rep.Get("/campaigns", s.reportCampaigns)

	adm := authed.Group("/admin", requireRole(cti.RoleAdmin))
	adm.Get("/supervisors/:id/campaigns", s.getSupervisedCampaigns)
	adm.Put("/supervisors/:id/campaigns", s.putSupervisedCampaigns)

	s.floorRoutes(v1, authed)
}

func (s *Server) history() *postgres.History { return postgres.NewHistory(s.o.DB) }

func (s *Server) scope(ctx context.Context, c *fiber.Ctx) (postgres.Scope, error) {
	u := currentUser(c)
	return s.history().ScopeFor(ctx, u.ID, u.Role)
}

// historyFilter reads the search's query parameters.
func historyFilter(c *fiber.Ctx) (postgres.HistoryFilter, error) {
	var f postgres.HistoryFilter
	var err error
	if f.From, err = timeParam(c, "from"); err != nil {
		return f, err
	}
	if f.To, err = timeParam(c, "to"); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, badField("to", "to must be after from")
	}
	if f.CampaignID, err = int64Param(c, "campaignId"); err != nil {
		return f, err
	}
	if f.AgentID, err = int64Param(c, "agentId"); err != nil {
		return f, err
	}
	f.Customer = strings.TrimSpace(c.Query("customer"))
	if len(f.Customer) > 40 {
		return f, badField("customer", "customer number is too long")
	}
	f.Direction = strings.ToUpper(c.Query("direction"))
	if f.Direction != "" && f.Direction != "IN" && f.Direction != "OUT" {
		return f, badField("direction", "direction must be IN or OUT")
	}
	f.WrapCode = c.Query("wrapCode")
	if len(f.WrapCode) > 64 {
		return f, badField("wrapCode", "wrap code is too long")
	}
	if f.HasRecording, err = boolParam(c, "hasRecording"); err != nil {
		return f, err
	}
	if f.HasBookmark, err = boolParam(c, "hasBookmark"); err != nil {
		return f, err
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return f, badField("limit", "limit must be a number from 1 to 500")
		}
		f.Limit = n
	}
	f.Cursor = c.Query("cursor")
	if len(f.Cursor) > 256 {
		return f, badField("cursor", "cursor is not one this server gave out")
	}
	return f, nil
}

func timeParam(c *fiber.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		if d, derr := time.Parse("2006-01-02", v); derr == nil {
			return d, nil
		}
		return time.Time{}, badField(name, name+" must be a date (2026-01-31) or a time (2026-01-31T09:00:00Z)")
	}
	return t.UTC(), nil
}

func int64Param(c *fiber.Ctx, name string) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, badField(name, name+" must be a positive number")
	}
	return n, nil
}

func boolParam(c *fiber.Ctx, name string) (*bool, error) {
	switch c.Query(name) {
	case "":
		return nil, nil
	case "true", "1", "yes":
		t := true
		return &t, nil
	case "false", "0", "no":
		f := false
		return &f, nil
	}
	return nil, badField(name, name+" must be true or false")
}

func (s *Server) historySearch(c *fiber.Ctx) error {
	f, err := historyFilter(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	sc, err := s.scope(ctx, c)
	if err != nil {
		return err
	}
	page, err := s.history().Search(ctx, sc, f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) historyDetail(c *fiber.Ctx) error {
	id := c.Params("id")
	if id == "" || len(id) > 128 {
		return newProblem(404, "no such call")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	sc, err := s.scope(ctx, c)
	if err != nil {
		return err
	}
	d, err := s.history().Detail(ctx, sc, id)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// historyCSVHeader names the export's columns.
var historyCSVHeader = []string{"id", "parent_id", "created_at", "direction", "campaign", "customer_number", "agent",
	"state", "connected_at", "ended_at", "wrapped_at", "queue_seconds", "talk_seconds", "wrap_code", "end_reason",
	"has_recording", "has_bookmark"}

// historyExport streams the whole search (no paging) as CSV. Rows go out
// as Postgres produces them, so the export's size does not bound memory.
func (s *Server) historyExport(c *fiber.Ctx) error {
	f, err := historyFilter(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	sc, err := s.scope(ctx, c)
	cancel()
	if err != nil {
		return err
	}
	h := s.history()
	// Fail before the 200 for a bad cursor or filter.
	if _, err := h.Explain(c.UserContext(), sc, postgres.HistoryFilter{Direction: f.Direction}, false); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="calls.csv"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	log := s.log
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		cw := csv.NewWriter(w)
		cw.Write(historyCSVHeader)
		n := 0
		err := h.Each(ctx, sc, f, func(r postgres.HistoryRow) error {
			cw.Write(historyCSVRow(r))
			n++
			if n%500 == 0 {
				cw.Flush()
				if err := cw.Error(); err != nil {
					return err
				}
				return w.Flush() // the client went away: stop reading rows
			}
			return nil
		})
		cw.Flush()
		if err != nil {
			log.Error("history export stopped", "rows", n, "err", err)
			// A truncated CSV must not pass for a whole one.
			w.WriteString("# export stopped early: " + csvSafe(err.Error()) + "\n")
		}
		w.Flush()
	})
	return nil
}

func historyCSVRow(r postgres.HistoryRow) []string {
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	parent := ""
	if r.ParentID != nil {
		parent = *r.ParentID
	}
	return []string{r.ID, parent, r.CreatedAt.Format(time.RFC3339), r.Direction, csvSafe(r.CampaignName), csvSafe(r.CustomerNumber),
		csvSafe(r.AgentName), r.State, ts(r.ConnectedAt), ts(r.EndedAt), ts(r.WrappedAt),
		strconv.FormatFloat(float64(r.QueueMs)/1000, 'f', 1, 64), strconv.FormatFloat(float64(r.TalkMs)/1000, 'f', 1, 64),
		csvSafe(r.WrapCode), csvSafe(r.EndReason), strconv.FormatBool(r.HasRecording), strconv.FormatBool(r.HasBookmark)}
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet
// (a customer number like "+44…" stays, "=cmd" gets a leading quote).
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=@\t\r", rune(v[0])) || strings.HasPrefix(v, "-") && len(v) > 1 && (v[1] < '0' || v[1] > '9') {
		return "'" + v
	}
	return v
}

// --- supervisor ↔ campaign assignment ---------------------------------------

type supervisedCampaigns struct {
	CampaignIDs []int64 `json:"campaignIds"`
}

func (s *Server) getSupervisedCampaigns(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	var role string
	if err := s.o.DB.WithContext(ctx).Raw(`SELECT role FROM users WHERE id = ?`, id).Scan(&role).Error; err != nil {
		return err
	}
	if role == "" {
		return newProblem(404, "no such user")
	}
	ids, err := postgres.SupervisedCampaigns(ctx, s.o.DB, id)
	if err != nil {
		return err
	}
	return c.JSON(supervisedCampaigns{CampaignIDs: ids})
}

func (s *Server) putSupervisedCampaigns(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var in supervisedCampaigns
	if err := decode(c, &in, false); err != nil {
		return err
	}
	if in.CampaignIDs == nil {
		return badField("campaignIds", "campaignIds is required (an empty list removes every campaign)")
	}
	if len(in.CampaignIDs) > 1000 {
		return badField("campaignIds", "at most 1000 campaigns")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := postgres.SetSupervisedCampaigns(ctx, s.o.DB, id, in.CampaignIDs); err != nil {
		return err
	}
	ids, err := postgres.SupervisedCampaigns(ctx, s.o.DB, id)
	if err != nil {
		return err
	}
	s.floorForget(id)
	return c.JSON(supervisedCampaigns{CampaignIDs: ids})
}
