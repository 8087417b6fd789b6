package api

// Outbound dialler routes: lead-list import with progress, lead lists,
// do-not-call numbers, dialler settings validation on campaign edits,
// callbacks (agent, supervisor, and the dialplan's "Request a callback"
// step).

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/dialer"
	"github.com/ctid/ctid/dialer/leads"
	"github.com/ctid/ctid/dialer/store"
)

// maxLeadFile bounds an uploaded lead list (the form around it may add 64 KiB).
const maxLeadFile = 50 << 20

// maxLeadErrors is how many row errors an import answer lists.
const maxLeadErrors = 100

// --- lead imports and their progress -------------------------------------------

// leadImport is the progress of one lead-list import, polled by the admin
// page while the (synchronous) upload request runs.
type leadImport struct {
	ID         string `json:"id"`
	CampaignID int64  `json:"campaignId"`
	ListID     int64  `json:"listId,omitempty"`
	State      string `json:"state"` // importing, done, failed
	RowsRead   int    `json:"rowsRead"`
	Accepted   int    `json:"accepted"`
	Rejected   int    `json:"rejected"`
	BytesRead  int64  `json:"bytesRead"`
	BytesTotal int64  `json:"bytesTotal"`
	Error      string `json:"error,omitempty"`
	updated    time.Time
}

type leadImports struct {
	mu sync.Mutex
	m  map[string]*leadImport
}

var importIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

func (li *leadImports) start(id string, campaignID int64, total int64) (*leadImport, bool) {
	li.mu.Lock()
	defer li.mu.Unlock()
	if li.m == nil {
		li.m = map[string]*leadImport{}
	}
	now := time.Now()
	for k, v := range li.m { // forget finished imports after 15 minutes
		if v.State != "importing" && now.Sub(v.updated) > 15*time.Minute {
			delete(li.m, k)
		}
	}
	if _, dup := li.m[id]; dup || len(li.m) >= 1000 {
		return nil, false
	}
	p := &leadImport{ID: id, CampaignID: campaignID, State: "importing", BytesTotal: total, updated: now}
	li.m[id] = p
	return p, true
}

func (li *leadImports) update(p *leadImport, f func(*leadImport)) {
	li.mu.Lock()
	f(p)
	p.updated = time.Now()
	li.mu.Unlock()
}

func (li *leadImports) get(id string) (leadImport, bool) {
	li.mu.Lock()
	defer li.mu.Unlock()
	p, ok := li.m[id]
	if !ok {
		return leadImport{}, false
	}
	return *p, true
}

type mappingRequest struct {
	Name       string   `json:"name"`
	Phones     []string `json:"phones"`
	TimeZone   string   `json:"timeZone"`
	ExternalID string   `json:"externalId"`
}

type rowErrorView struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

type leadImportResult struct {
	ImportID          string         `json:"importId"`
	ListID            int64          `json:"listId"`
	ListName          string         `json:"listName"`
	Rows              int            `json:"rows"`
	Imported          int            `json:"imported"`
	Rejected          int            `json:"rejected"`
	Duplicates        int            `json:"duplicates"`
	DNC               int            `json:"dnc"`
	DNCNumbersRemoved int            `json:"dncNumbersRemoved"`
	Errors            []rowErrorView `json:"errors"`
}

func (s *Server) outboundCampaign(ctx context.Context, id int64) (postgres.CampaignRecord, error) {
	camp, err := s.admin.Campaign(ctx, id)
	if err != nil {
		return camp, err
	}
	if camp.Kind != "outbound" {
		return camp, newProblem(409, "lead lists belong to outbound campaigns; this campaign is "+camp.Kind)
	}
	return camp, nil
}

// importLeads takes a multipart form with file (.csv or .xlsx, at most
// 50 MB), optional mapping (JSON) and listName, and imports it into a new
// lead list of the campaign. The form field (or query parameter) importId,
// chosen by the client, names the import for GET /admin/lead-imports/{id}
// while this request runs.
func (s *Server) importLeads(c *fiber.Ctx) error {
	cid, err := idParam(c)
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt != "multipart/form-data" {
		return newProblem(415, "send multipart/form-data with the lead file in the field 'file'")
	}
	form, err := c.MultipartForm()
	if err != nil {
		return newProblem(400, "malformed multipart form: "+err.Error())
	}
	defer form.RemoveAll()
	if p := checkForm(form.Value); p != nil {
		return p
	}
	value := func(k string) string {
		if v := form.Value[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	files := form.File["file"]
	if len(files) != 1 {
		return badField("file", "send one .csv or .xlsx file in the form field 'file'")
	}
	fh := files[0]
	ext := strings.ToLower(filepath.Ext(fh.Filename))
	switch ext {
	case ".csv", ".txt", ".tsv", ".xlsx":
	default:
		return badField("file", "the file must be .csv or .xlsx")
	}
	if fh.Size > maxLeadFile {
		return badField("file", "the file is larger than 50 MB")
	}
	var mapping *leads.Mapping
	if m := value("mapping"); m != "" {
		var mr mappingRequest
		dec := json.NewDecoder(strings.NewReader(m))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&mr); err != nil {
			return badField("mapping", "mapping must be a JSON object {name, phones:[…], timeZone, externalId}: "+strings.TrimPrefix(err.Error(), "json: "))
		}
		if p := checkText([]byte(m)); p != nil {
			p.Field = "mapping." + p.Field
			return p
		}
		if len(mr.Phones) == 0 || len(mr.Phones) > leads.MaxPhones {
			return badField("mapping.phones", fmt.Sprintf("mapping.phones must name 1 to %d columns", leads.MaxPhones))
		}
		mapping = &leads.Mapping{Name: mr.Name, TimeZone: mr.TimeZone, ExternalID: mr.ExternalID}
		copy(mapping.Phones[:], mr.Phones)
	}
	listName := value("listName")
	if len(listName) > 200 {
		return badField("listName", "listName is limited to 200 characters")
	}
	importID := value("importId")
	if importID == "" {
		importID = c.Query("importId")
	}
	if importID == "" {
		b := make([]byte, 12)
		rand.Read(b)
		importID = hex.EncodeToString(b)
	} else if !importIDPattern.MatchString(importID) {
		return badField("importId", "importId must be 8 to 64 letters, digits, '-' or '_'")
	}

	ctx, cancel := context.WithTimeout(c.UserContext(), 15*time.Minute)
	defer cancel()
	camp, err := s.outboundCampaign(ctx, cid)
	if err != nil {
		return err
	}
	if listName == "" {
		listName = fmt.Sprintf("%s %s", filepath.Base(fh.Filename), s.o.Now().UTC().Format("2006-01-02 15:04:05"))
	}
	var taken int64
	if err := s.o.DB.WithContext(ctx).Raw(`SELECT count(*) FROM dialer_lead_lists WHERE campaign_id = ? AND name = ?`, cid, listName).
		Scan(&taken).Error; err != nil {
		return err
	}
	if taken > 0 {
		p := newProblem(409, "the campaign already has a lead list named "+strconv.Quote(listName))
		p.Field = "listName"
		return p
	}

	// Stream the upload to a temporary file (xlsx needs random access).
	src, err := fh.Open()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "ctid-leads-*"+ext)
	if err != nil {
		src.Close()
		return err
	}
	defer os.Remove(tmp.Name())
	// The same file with the same column mapping uploaded twice is warned
	// about (a different mapping is a deliberate re-import).
	sum := sha256.New()
	io.WriteString(sum, value("mapping")+"\n")
	n, err := io.Copy(io.MultiWriter(tmp, sum), io.LimitReader(src, maxLeadFile+1))
	src.Close()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n > maxLeadFile {
		return badField("file", "the file is larger than 50 MB")
	}
	hash := hex.EncodeToString(sum.Sum(nil))
	if c.Query("force") != "true" && value("force") != "true" {
		before, err := s.admin.LeadListUploadedBefore(ctx, cid, hash)
		if err != nil {
			return err
		}
		if before != "" {
			p := newProblem(409, "This file was already uploaded to this campaign as the lead list "+strconv.Quote(before)+
				". Upload it again with force=true to import it anyway.")
			p.Field = "file"
			return p
		}
	}

	prog, ok := s.imports.start(importID, cid, n)
	if !ok {
		return badField("importId", "importId is already in use")
	}
	fail := func(msg string) {
		s.imports.update(prog, func(p *leadImport) { p.State, p.Error = "failed", msg })
	}

	st := store.New(s.o.DB)
	list, err := st.CreateList(ctx, cid, listName, filepath.Base(fh.Filename), mapping)
	if err != nil {
		fail("could not create the list")
		return err
	}
	s.imports.update(prog, func(p *leadImport) { p.ListID = list.ID })
	res, err := leads.ImportFile(ctx, tmp.Name(), st.Sink(list), leads.Options{
		Mapping: mapping, DefaultRegion: camp.DefaultRegion, DNC: st.DNC(cid), MaxErrors: maxLeadErrors,
		Progress: func(pr leads.Progress) {
			s.imports.update(prog, func(p *leadImport) {
				p.RowsRead, p.Accepted, p.Rejected, p.BytesRead = pr.Rows, pr.Accepted, pr.Rejected, pr.BytesRead
				if pr.BytesTotal > 0 {
					p.BytesTotal = pr.BytesTotal
				}
			})
		},
	})
	if err != nil {
		// Nothing half-imported is left behind: the list goes with its leads.
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Second)
		s.o.DB.WithContext(dctx).Exec(`DELETE FROM dialer_lead_lists WHERE id = ?`, list.ID)
		dcancel()
		fail(err.Error())
		if ctx.Err() != nil {
			return newProblem(503, "the import took too long and was abandoned")
		}
		switch {
		case errors.Is(err, leads.ErrNoPhoneColumn):
			return badField("mapping", "no phone number column was mapped or recognised in the header row")
		case errors.Is(err, leads.ErrEmpty):
			return badField("file", "the file has no header row")
		case errors.Is(err, leads.ErrTooManyColumns):
			return badField("file", fmt.Sprintf("the file has more than %d columns", leads.MaxColumns))
		case errors.Is(err, leads.ErrUnzipTooLarge):
			return badField("file", "the .xlsx file expands to far more data than a lead list holds")
		}
		msg := strings.TrimPrefix(err.Error(), "leads: ")
		if strings.Contains(msg, "mapping") || strings.Contains(msg, "column") {
			return badField("mapping", msg)
		}
		// Malformed files (bad CSV quoting, not a zip, …) are the client's.
		s.log.Warn("lead import failed", "campaign", cid, "file", fh.Filename, "err", err)
		return badField("file", "the file could not be read: "+msg)
	}
	if err := st.SetMapping(ctx, list.ID, res.Mapping); err != nil {
		s.log.Warn("saving the lead list mapping failed", "list", list.ID, "err", err)
	}
	if err := s.admin.SetLeadListHash(ctx, list.ID, hash); err != nil {
		s.log.Warn("saving the lead list file hash failed", "list", list.ID, "err", err)
	}
	s.imports.update(prog, func(p *leadImport) {
		p.State, p.RowsRead, p.Accepted, p.Rejected, p.BytesRead = "done", res.Rows, res.Accepted, res.Rejected, p.BytesTotal
	})
	out := leadImportResult{ImportID: importID, ListID: list.ID, ListName: list.Name, Rows: res.Rows, Imported: res.Accepted,
		Rejected: res.Rejected, Duplicates: res.Duplicates, DNC: res.DNC, DNCNumbersRemoved: res.DNCNumbersRemoved,
		Errors: []rowErrorView{}}
	for i, e := range res.Errors {
		if i == maxLeadErrors {
			break
		}
		out.Errors = append(out.Errors, rowErrorView{Row: e.Row, Reason: e.Reason})
	}
	c.Location(fmt.Sprintf("/api/v1/admin/campaigns/%d/lead-lists", cid))
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *Server) leadImportProgress(c *fiber.Ctx) error {
	p, ok := s.imports.get(c.Params("id"))
	if !ok {
		return newProblem(404, "no such lead import (imports are kept 15 minutes after they end)")
	}
	return c.JSON(p)
}

type leadListView struct {
	ID        int64            `json:"id"`
	Name      string           `json:"name"`
	Active    bool             `json:"active"`
	Source    string           `json:"source"`
	CreatedAt time.Time        `json:"createdAt"`
	Total     int64            `json:"total"`
	ByStatus  map[string]int64 `json:"byStatus"`
}

func (s *Server) listLeadLists(c *fiber.Ctx) error {
	cid, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if _, err := s.admin.Campaign(ctx, cid); err != nil {
		return err
	}
	var rows []struct {
		ID        int64
		Name      string
		Active    bool
		Source    string
		CreatedAt time.Time
	}
	if err := s.o.DB.WithContext(ctx).Raw(`SELECT id, name, active, source, created_at FROM dialer_lead_lists
		WHERE campaign_id = ? ORDER BY id`, cid).Scan(&rows).Error; err != nil {
		return err
	}
	lists := make([]leadListView, len(rows))
	for i, r := range rows {
		lists[i] = leadListView{ID: r.ID, Name: r.Name, Active: r.Active, Source: r.Source, CreatedAt: r.CreatedAt}
	}
	var counts []struct {
		ListID int64
		Status string
		N      int64
	}
	if err := s.o.DB.WithContext(ctx).Raw(`SELECT list_id, status, count(*) AS n FROM dialer_leads
		WHERE campaign_id = ? GROUP BY list_id, status`, cid).Scan(&counts).Error; err != nil {
		return err
	}
	idx := map[int64]*leadListView{}
	for i := range lists {
		lists[i].ByStatus = map[string]int64{}
		idx[lists[i].ID] = &lists[i]
	}
	for _, n := range counts {
		if l := idx[n.ListID]; l != nil {
			l.ByStatus[n.Status] = n.N
			l.Total += n.N
		}
	}
	return c.JSON(lists)
}

// --- do-not-call ---------------------------------------------------------------------

type dncRequest struct {
	Numbers    []string `json:"numbers"`
	Number     string   `json:"number"`     // one number (the admin page's form); joins numbers
	CampaignID *int64   `json:"campaignId"` // nil: every campaign
	Region     string   `json:"region"`     // for national numbers; default the campaign's, else GB
	Reason     string   `json:"reason"`
}

func (s *Server) dncNumbers(c *fiber.Ctx) (dncRequest, []string, int64, error) {
	var req dncRequest
	if err := decode(c, &req, false); err != nil {
		return req, nil, 0, err
	}
	if n := strings.TrimSpace(req.Number); n != "" {
		req.Numbers = append(req.Numbers, n)
	}
	if len(req.Numbers) == 0 || len(req.Numbers) > 1000 {
		return req, nil, 0, badField("number", "Type the phone number (or list 1 to 1000 in numbers).")
	}
	if len(req.Reason) > 200 {
		return req, nil, 0, badField("reason", "reason is limited to 200 characters")
	}
	region := strings.ToUpper(strings.TrimSpace(req.Region))
	var cid int64
	if req.CampaignID != nil {
		cid = *req.CampaignID
		ctx, cancel := s.ctx(c)
		defer cancel()
		camp, err := s.admin.Campaign(ctx, cid)
		if cti.KindOf(err) == cti.KindNotFound {
			return req, nil, 0, badField("campaignId", fmt.Sprintf("campaign %d does not exist", cid))
		} else if err != nil {
			return req, nil, 0, err
		}
		if region == "" {
			region = camp.DefaultRegion
		}
	}
	if region == "" {
		region = "GB"
	}
	if len(region) != 2 {
		return req, nil, 0, badField("region", "region must be a two-letter ISO 3166 code")
	}
	out := make([]string, 0, len(req.Numbers))
	for i, raw := range req.Numbers {
		e164, err := leads.Normalize(raw, region)
		if err != nil {
			return req, nil, 0, badField(fmt.Sprintf("numbers[%d]", i), fmt.Sprintf("%q is not a valid phone number (region %s)", raw, region))
		}
		out = append(out, e164)
	}
	return req, out, cid, nil
}

func (s *Server) addDNC(c *fiber.Ctx) error {
	req, nums, cid, err := s.dncNumbers(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	// Who added it is kept with the number (the admin's do-not-call page).
	if _, err := s.admin.AddDNC(ctx, cid, strings.TrimSpace(req.Reason), currentUser(c).Username, nums...); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"numbers": nums, "campaignId": req.CampaignID})
}

func (s *Server) removeDNC(c *fiber.Ctx) error {
	req, nums, cid, err := s.dncNumbers(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	q := s.o.DB.WithContext(ctx).Where("number IN ?", nums)
	if cid == 0 {
		q = q.Where("campaign_id IS NULL")
	} else {
		q = q.Where("campaign_id = ?", cid)
	}
	res := q.Table("dialer_dnc").Delete(nil)
	if res.Error != nil {
		return res.Error
	}
	return c.JSON(fiber.Map{"numbers": nums, "campaignId": req.CampaignID, "removed": res.RowsAffected})
}

// --- dialler settings on campaign edits --------------------------------------------

// checkDialerSettings validates the "dialer" settings of an outbound
// campaign (or of any campaign that has them) before it is written; id is
// 0 for a new campaign. Problems name the field as settings.dialer.<field>.
func (s *Server) checkDialerSettings(ctx context.Context, id int64, in *postgres.CampaignRecord) error {
	var doc map[string]json.RawMessage
	if t := bytes.TrimSpace(in.Settings); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if err := json.Unmarshal(t, &doc); err != nil {
			return badField("settings", "settings must be a JSON object")
		}
	}
	_, has := doc["dialer"]
	if in.Kind != "outbound" && !has {
		return nil
	}
	region := in.DefaultRegion
	if len(region) != 2 {
		region = "GB" // Validate reports a bad region itself
	}
	ds, err := dialer.ParseSettings(in.Settings, strings.ToUpper(region))
	if err != nil {
		var ses dialer.SettingsErrors
		var se *dialer.SettingsError
		switch {
		case errors.As(err, &ses) && len(ses) > 0:
			se = ses[0]
		case errors.As(err, &se):
		default:
			return badField("settings.dialer", err.Error())
		}
		field := "settings.dialer"
		if se.Field != "" {
			field += "." + se.Field
		}
		msg := se.Problem
		if len(ses) > 1 {
			msg += fmt.Sprintf(" (and %d more problems: %s)", len(ses)-1, ses[1:].Error())
		}
		return badField(field, field+": "+msg)
	}
	// The abandon message is played by Asterisk: the same rule as an
	// announcement's media (a sound name, no path escapes).
	if m := ds.AbandonMessage; m != "" && (!soundURI.MatchString(m) || strings.Contains(m, "..")) {
		return badField("settings.dialer.abandonMessage", "abandonMessage must be an Asterisk sound such as sound:ss-noservice")
	}
	for i, l := range ds.LeadLists {
		var n int64
		if id != 0 {
			if err := s.o.DB.WithContext(ctx).Raw(`SELECT count(*) FROM dialer_lead_lists WHERE id = ? AND campaign_id = ?`, l, id).
				Scan(&n).Error; err != nil {
				return err
			}
		}
		if n == 0 {
			return badField(fmt.Sprintf("settings.dialer.leadLists[%d]", i), fmt.Sprintf("lead list %d is not a list of this campaign", l))
		}
	}
	return nil
}

// --- callbacks ---------------------------------------------------------------------

func (s *Server) dialerOrUnavailable() (*dialer.Worker, error) {
	if s.o.Dialer == nil {
		return nil, newProblem(503, "the dialler is not running")
	}
	return s.o.Dialer, nil
}

// callbackError maps the dialler's callback errors to problems.
func callbackError(err error) error {
	var ve *dialer.ValidationError
	switch {
	case errors.As(err, &ve):
		if ve.Field == "status" {
			p := newProblem(409, ve.Problem)
			p.Field = ve.Field
			return p
		}
		return badField(ve.Field, ve.Field+": "+ve.Problem)
	case errors.Is(err, dialer.ErrCallbackNotFound):
		return newProblem(404, "no such callback")
	case errors.Is(err, dialer.ErrCampaignNotFound):
		return badField("campaignId", "no such campaign")
	}
	return err
}

type agentCallbackRequest struct {
	Number     string `json:"number"`
	Name       string `json:"name"`
	DueAt      string `json:"dueAt"` // RFC 3339
	CampaignID *int64 `json:"campaignId"`
	ForQueue   bool   `json:"forQueue"`
	Note       string `json:"note"`
	// The adaptor's form (issue 15): when, RFC 3339 or "YYYY-MM-DDTHH:MM"
	// in timeZone (the customer's IANA zone); owner "me" or "queue".
	When     string `json:"when"`
	TimeZone string `json:"timeZone"`
	Owner    string `json:"owner"`
}

// callbackDue reads when a callback is due: dueAt or when, RFC 3339, or a
// local "YYYY-MM-DDTHH:MM" in the customer's zone.
func callbackDue(in agentCallbackRequest) (time.Time, error) {
	field, v := "dueAt", strings.TrimSpace(in.DueAt)
	if v == "" {
		field, v = "when", strings.TrimSpace(in.When)
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	loc := time.UTC
	if tz := strings.TrimSpace(in.TimeZone); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return time.Time{}, badField("timeZone", "timeZone must be an IANA time zone such as Europe/London")
		}
		loc = l
	} else if field == "when" && v != "" {
		return time.Time{}, badField("timeZone", "Say which time zone the time is in (the customer's, such as Europe/London).")
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badField(field, "Give the time as 2026-05-01T10:30 (with timeZone) or as an RFC 3339 date-time such as 2026-05-01T10:30:00+01:00.")
}

// agentCreateCallback arranges a callback for the agent (or, with
// forQueue, for the campaign's queue). Number and campaign default to the
// agent's current call, else their last one.
func (s *Server) agentCreateCallback(c *fiber.Ctx) error {
	var in agentCallbackRequest
	if err := decode(c, &in, false); err != nil {
		return err
	}
	w, err := s.dialerOrUnavailable()
	if err != nil {
		return err
	}
	due, err := callbackDue(in)
	if err != nil {
		return err
	}
	switch in.Owner {
	case "", "me":
	case "queue":
		in.ForQueue = true
	default:
		return badField("owner", "owner is me (you call back) or queue (the next free agent of the campaign)")
	}
	me := currentUser(c)
	ctx, cancel := s.ctx(c)
	defer cancel()
	req := dialer.CallbackRequest{Number: strings.TrimSpace(in.Number), Name: in.Name, DueAt: due, CreatedBy: me.ID, Note: in.Note}
	if in.CampaignID != nil {
		req.CampaignID = *in.CampaignID
	}
	// The call it follows: the current one, else the agent's last.
	var call struct {
		ID             string
		CampaignID     *int64
		CustomerNumber string
		LeadID         int64
	}
	if snap, err := s.eng.Snapshot(ctx, me.ID); err == nil && snap.Call != nil {
		call.ID, call.CampaignID, call.CustomerNumber = snap.Call.InteractionID, snap.Call.CampaignID, snap.Call.CustomerNumber
		if snap.Call.Lead != nil {
			call.LeadID = snap.Call.Lead.ID
		}
	} else if err := s.o.DB.WithContext(ctx).Raw(`SELECT id, campaign_id, customer_number FROM interactions
		WHERE agent_id = ? ORDER BY created_at DESC LIMIT 1`, me.ID).Scan(&call).Error; err != nil {
		return err
	}
	if call.ID != "" {
		sameCampaign := req.CampaignID == 0 || (call.CampaignID != nil && *call.CampaignID == req.CampaignID)
		if req.CampaignID == 0 && call.CampaignID != nil {
			req.CampaignID = *call.CampaignID
		}
		if req.Number == "" {
			req.Number = call.CustomerNumber
		}
		if sameCampaign {
			req.FromInteraction = call.ID
			if call.LeadID != 0 && req.Number == call.CustomerNumber {
				req.LeadID = call.LeadID
			}
		}
	}
	if req.CampaignID == 0 {
		return badField("campaignId", "campaignId is required (there is no current or last call to take it from)")
	}
	if req.Number == "" {
		return badField("number", "number is required (there is no current or last call to take it from)")
	}
	var on int64
	if err := s.o.DB.WithContext(ctx).Raw(`SELECT count(*) FROM campaign_agents WHERE campaign_id = ? AND user_id = ?`,
		req.CampaignID, me.ID).Scan(&on).Error; err != nil {
		return err
	}
	if on == 0 {
		return badField("campaignId", fmt.Sprintf("you are not on campaign %d", req.CampaignID))
	}
	if !in.ForQueue {
		req.AgentID = me.ID
	}
	cb, err := w.CreateCallback(ctx, req)
	if err != nil {
		return callbackError(err)
	}
	c.Location("/api/v1/agent/callbacks/" + strconv.FormatInt(cb.ID, 10))
	return c.Status(fiber.StatusCreated).JSON(cb)
}

func (s *Server) agentListCallbacks(c *fiber.Ctx) error {
	w, err := s.dialerOrUnavailable()
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	l, err := w.ListCallbacks(ctx, dialer.CallbackFilter{AgentID: currentUser(c).ID, Status: dialer.CallbackPending, Limit: 1000})
	if err != nil {
		return err
	}
	if l == nil {
		l = []dialer.Callback{}
	}
	return c.JSON(l)
}

func (s *Server) agentCancelCallback(c *fiber.Ctx) error {
	w, err := s.dialerOrUnavailable()
	if err != nil {
		return err
	}
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	me := currentUser(c).ID
	cb, err := w.GetCallback(ctx, id)
	if err != nil {
		return callbackError(err)
	}
	// Agents cancel their own callbacks and the queue callbacks they made.
	mine := (cb.AgentID != nil && *cb.AgentID == me) || (cb.AgentID == nil && cb.CreatedBy != nil && *cb.CreatedBy == me)
	if !mine {
		return newProblem(404, "no such callback")
	}
	if err := w.CancelCallback(ctx, id); err != nil {
		return callbackError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// listCallbacks is the supervisors' and admins' view: ?campaignId=,
// ?agentId=, ?status= (default every status), ?limit= (≤ 1000).
func (s *Server) listCallbacks(c *fiber.Ctx) error {
	w, err := s.dialerOrUnavailable()
	if err != nil {
		return err
	}
	var f dialer.CallbackFilter
	for _, q := range []struct {
		name string
		dst  *int64
	}{{"campaignId", &f.CampaignID}, {"agentId", &f.AgentID}} {
		if v := c.Query(q.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return badField(q.name, q.name+" must be a positive integer")
			}
			*q.dst = n
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1000 {
			return badField("limit", "limit must be 1 to 1000")
		}
		f.Limit = n
	}
	switch f.Status = c.Query("status"); f.Status {
	case "", dialer.CallbackPending, dialer.CallbackOffered, dialer.CallbackDone, dialer.CallbackCancelled:
	default:
		return badField("status", "status must be pending, offered, done or cancelled")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	l, err := w.ListCallbacks(ctx, f)
	if err != nil {
		return err
	}
	if l == nil {
		l = []dialer.Callback{}
	}
	return c.JSON(l)
}

// --- the dialplan's "Request a callback" step ----------------------------------------

// DialplanSecretHeader carries Options.DialplanSecret on /api/v1/dialplan requests.
const DialplanSecretHeader = "X-Ctid-Dialplan-Secret"

type dialplanCallbackRequest struct {
	Campaign    string `json:"campaign"` // campaign id or one of its DIDs
	Number      string `json:"number"`
	When        string `json:"when"` // RFC 3339, +2h, or HH:MM
	Interaction string `json:"interaction"`
}

// dialplanCallback creates a queue callback for the dialplan (Asterisk's
// CURL()), authenticated by the shared secret. The body is JSON or a form
// (campaign, number, when, interaction).
func (s *Server) dialplanCallback(c *fiber.Ctx) error {
	if s.o.DialplanSecret == "" {
		return newProblem(404, "the dialplan API is disabled (no dialplan secret is configured)")
	}
	ip, now := s.clientIP(c), s.o.Now()
	if wait, err := s.limiter.dialplanWait(c.UserContext(), ip, now); err != nil {
		return err
	} else if wait > 0 {
		p := newProblem(429, "too many wrong dialplan secrets from this address; try again later")
		p.retryAfter = int(wait.Seconds()) + 1
		return p
	}
	got := c.Get(DialplanSecretHeader)
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.o.DialplanSecret)) != 1 {
		if err := s.limiter.dialplanFail(c.UserContext(), ip, now); err != nil {
			return err
		}
		s.log.Warn("wrong dialplan secret", "ip", ip, "request_id", c.Locals(localRequestID))
		return newProblem(401, "a valid "+DialplanSecretHeader+" header is required")
	}
	w, err := s.dialerOrUnavailable()
	if err != nil {
		return err
	}
	var in dialplanCallbackRequest
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if mt == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(string(c.Body()))
		if err != nil {
			return newProblem(400, "malformed form: "+err.Error())
		}
		if p := checkForm(v); p != nil {
			return p
		}
		for k := range v {
			switch k {
			case "campaign", "number", "when", "interaction":
			default:
				return badField(k, "unknown field "+strconv.Quote(k))
			}
		}
		in = dialplanCallbackRequest{Campaign: v.Get("campaign"), Number: v.Get("number"), When: v.Get("when"), Interaction: v.Get("interaction")}
	} else if err := decode(c, &in, false); err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	in.Campaign = strings.TrimSpace(in.Campaign)
	var cid int64
	if n, err := strconv.ParseInt(in.Campaign, 10, 64); err == nil && n > 0 && !strings.HasPrefix(in.Campaign, "0") && len(in.Campaign) < 10 {
		cid = n
	} else if in.Campaign != "" {
		did := in.Campaign
		if err := s.o.DB.WithContext(ctx).Raw(`SELECT campaign_id FROM campaign_dids WHERE did = ? OR did = ? LIMIT 1`,
			did, "+"+strings.TrimPrefix(did, "+")).Scan(&cid).Error; err != nil {
			return err
		}
	}
	if cid == 0 {
		return badField("campaign", "campaign must be a campaign id or one of its DIDs")
	}
	if strings.TrimSpace(in.Number) == "" {
		return badField("number", "number is required")
	}
	cb, err := w.StasisCallback(ctx, cid, in.Number, in.When, in.Interaction)
	if err != nil {
		return callbackError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(cb)
}
