package api

import (
	"encoding/csv"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti/postgres"
)

// Reports: GET /api/v1/reports/agents and /api/v1/reports/campaigns with
// from, to (required), interval=15m|day, campaignId, format=json|csv.
// JSON carries the rows (one per agent or campaign per bucket) and the
// range totals; CSV the same rows and then the totals, marked "total".

type agentReport struct {
	From     time.Time                 `json:"from"`
	To       time.Time                 `json:"to"`
	Interval string                    `json:"interval"`
	Rows     []postgres.AgentReportRow `json:"rows"`
	Totals   []postgres.AgentReportRow `json:"totals"`
}

type campaignReport struct {
	From       time.Time                    `json:"from"`
	To         time.Time                    `json:"to"`
	Interval   string                       `json:"interval"`
	ThresholdS int                          `json:"serviceLevelThresholdSeconds"`
	Rows       []postgres.CampaignReportRow `json:"rows"`
	Totals     []postgres.CampaignReportRow `json:"totals"`
}

func reportQuery(c *fiber.Ctx, now time.Time) (postgres.ReportQuery, string, error) {
	var q postgres.ReportQuery
	var err error
	if q.From, err = timeParam(c, "from"); err != nil {
		return q, "", err
	}
	if q.To, err = timeParam(c, "to"); err != nil {
		return q, "", err
	}
	if q.From.IsZero() {
		return q, "", badField("from", "from is required")
	}
	if q.To.IsZero() {
		return q, "", badField("to", "to is required")
	}
	switch iv := c.Query("interval", "15m"); iv {
	case "15m":
	case "day":
		q.ByDay = true
	default:
		return q, "", badField("interval", "interval must be 15m or day")
	}
	if q.CampaignID, err = int64Param(c, "campaignId"); err != nil {
		return q, "", err
	}
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		return q, "", badField("format", "format must be json or csv")
	}
	q.Threshold = ServiceLevelThreshold
	q.Now = now
	return q, format, nil
}

func intervalName(byDay bool) string {
	if byDay {
		return "day"
	}
	return "15m"
}

func (s *Server) reportAgents(c *fiber.Ctx) error {
	q, format, err := reportQuery(c, s.o.Now())
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	sc, err := s.scope(ctx, c)
	if err != nil {
		return err
	}
	rows, totals, err := postgres.NewReports(s.o.DB).Agents(ctx, sc, q)
	if err != nil {
		return err
	}
	if format == "csv" {
		return writeCSV(c, "agents.csv", agentCSV(rows, totals))
	}
	from, to := q.From.UTC().Truncate(postgres.ReportInterval), q.To.UTC()
	if len(totals) > 0 {
		from = totals[0].Start
	}
	return c.JSON(agentReport{From: from, To: to, Interval: intervalName(q.ByDay), Rows: rows, Totals: totals})
}

func (s *Server) reportCampaigns(c *fiber.Ctx) error {
	q, format, err := reportQuery(c, s.o.Now())
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	sc, err := s.scope(ctx, c)
	if err != nil {
		return err
	}
	rows, totals, err := postgres.NewReports(s.o.DB).Campaigns(ctx, sc, q)
	if err != nil {
		return err
	}
	if format == "csv" {
		return writeCSV(c, "campaigns.csv", campaignCSV(rows, totals))
	}
	from, to := q.From.UTC().Truncate(postgres.ReportInterval), q.To.UTC()
	if len(totals) > 0 {
		from = totals[0].Start
	}
	return c.JSON(campaignReport{From: from, To: to, Interval: intervalName(q.ByDay),
		ThresholdS: int(ServiceLevelThreshold / time.Second), Rows: rows, Totals: totals})
}

func writeCSV(c *fiber.Ctx, name string, records [][]string) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	w := csv.NewWriter(c.Response().BodyWriter())
	w.WriteAll(records)
	return w.Error()
}

func secs(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) }

func ratio(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p*100, 'f', 1, 64)
}

func agentCSV(rows, totals []postgres.AgentReportRow) [][]string {
	// One column per pause reason that occurs anywhere in the report.
	reasonSet := map[string]bool{}
	for _, r := range totals {
		for k := range r.PauseByMs {
			reasonSet[k] = true
		}
	}
	reasons := make([]string, 0, len(reasonSet))
	for k := range reasonSet {
		reasons = append(reasons, k)
	}
	slices.Sort(reasons)
	head := []string{"start", "agent_id", "agent", "handled", "talk_s", "hold_s", "wrap_s", "aht_s", "ready_s", "on_call_s",
		"on_wrap_s", "ringing_s", "paused_s", "logged_in_s", "occupancy_pct"}
	for _, r := range reasons {
		head = append(head, "paused_"+csvSafe(r)+"_s")
	}
	out := [][]string{head}
	line := func(start string, r postgres.AgentReportRow) []string {
		l := []string{start, strconv.FormatInt(r.AgentID, 10), csvSafe(r.AgentName), strconv.FormatInt(r.Handled, 10),
			secs(r.TalkMs), secs(r.HoldMs), secs(r.WrapMs), secs(r.AHTMs), secs(r.ReadyMs), secs(r.OnCallMs), secs(r.OnWrapMs),
			secs(r.ReservedMs), secs(r.PausedMs), secs(r.LoggedInMs), ratio(r.Occupancy)}
		for _, k := range reasons {
			l = append(l, secs(r.PauseByMs[k]))
		}
		return l
	}
	for _, r := range rows {
		out = append(out, line(r.Start.Format(time.RFC3339), r))
	}
	for _, r := range totals {
		out = append(out, line("total", r))
	}
	return out
}

func campaignCSV(rows, totals []postgres.CampaignReportRow) [][]string {
	out := [][]string{{"start", "campaign_id", "campaign", "offered", "answered", "answered_in_threshold", "abandoned",
		"service_level_pct", "asa_s", "dialled", "connected", "callbacks"}}
	line := func(start string, r postgres.CampaignReportRow) []string {
		asa := ""
		if r.ASAMs != nil {
			asa = secs(*r.ASAMs)
		}
		return []string{start, strconv.FormatInt(r.CampaignID, 10), csvSafe(r.CampaignName), strconv.FormatInt(r.Offered, 10),
			strconv.FormatInt(r.Answered, 10), strconv.FormatInt(r.InThreshold, 10), strconv.FormatInt(r.Abandoned, 10),
			ratio(r.ServiceLevel), asa, strconv.FormatInt(r.Dialled, 10), strconv.FormatInt(r.Connected, 10),
			strconv.FormatInt(r.Callbacks, 10)}
	}
	for _, r := range rows {
		out = append(out, line(r.Start.Format(time.RFC3339), r))
	}
	for _, r := range totals {
		out = append(out, line("total", r))
	}
	return out
}
