package api_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/dialer"
)

// withDialer gives the API a (not started) dialler worker for callbacks.
func withDialer(secret string) func(*api.Options) {
	return func(o *api.Options) {
		w, err := dialer.New(dialer.Config{DB: o.DB, Engine: o.Engine})
		if err != nil {
			panic(err)
		}
		o.Dialer = w
		o.DialplanSecret = secret
	}
}

// outbound creates an outbound campaign over the API and returns its id.
func (e *env) outbound(tok, name, extra string) int64 {
	e.t.Helper()
	body := fmt.Sprintf(`{"name":%q,"kind":"outbound","agentIds":[%d,%d]%s}`, name, e.ids["alice"], e.ids["bob"], extra)
	var c struct{ ID int64 }
	e.must(201, "POST", "/api/v1/admin/campaigns", tok, body).json(e.t, &c)
	return c.ID
}

type formFile struct{ name, content string }

// upload posts a multipart form (documented-response checked like e.do).
func (e *env) uploadForm(path, tok string, fields map[string]string, file *formFile) resp {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", file.name)
		fw.Write([]byte(file.content))
	}
	mw.Close()
	return e.doHdr("POST", path, tok, buf.String(), map[string]string{"Content-Type": mw.FormDataContentType()})
}

type importResult struct {
	ImportID                                  string
	ListID                                    int64
	ListName                                  string
	Rows, Imported, Rejected, Duplicates, DNC int
	DNCNumbersRemoved                         int
	Errors                                    []struct {
		Row    int
		Reason string
	}
}

func TestLeadImportCSVAndXLSX(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	camp := e.outbound(root, "Outbound", "")

	// Do-not-call numbers, national and E.164, normalised.
	var dnc struct{ Numbers []string }
	e.must(200, "POST", "/api/v1/admin/dnc", root, fmt.Sprintf(`{"numbers":["07400 123999","+442079460999"],"campaignId":%d,"reason":"asked"}`, camp)).json(t, &dnc)
	if strings.Join(dnc.Numbers, ",") != "+447400123999,+442079460999" {
		t.Fatalf("dnc numbers %v", dnc.Numbers)
	}
	e.must(200, "POST", "/api/v1/admin/dnc", root, `{"numbers":["+12025550143"]}`) // global
	if p := e.must(400, "POST", "/api/v1/admin/dnc", root, `{"numbers":["+447400123111","not a number"]}`).problem(t); p.Field != "numbers[1]" {
		t.Errorf("bad dnc number field %q", p.Field)
	}
	e.must(400, "POST", "/api/v1/admin/dnc", root, `{"numbers":["+447400123111"],"campaignId":999999}`)
	e.must(400, "POST", "/api/v1/admin/dnc", root, `{"numbers":[]}`)

	csv := "Name,Mobile,Home,Work,Time zone,Account\n" +
		"Ann Smith,07400 123001,020 7946 0001,,Europe/London,A1\n" + // row 2: good
		"Bob Jones,not-a-number,,,,A2\n" + // row 3: bad number
		"Cat Brown,+44 7400 123001,,,,A3\n" + // row 4: duplicate of row 2
		"Dan Green,07400 123999,,,,A4\n" + // row 5: only number on the DNC list
		"Eve White,07400 123002,+44 20 7946 0999,02079460003,,A5\n" + // row 6: good, one DNC number dropped
		"\n" + // blank
		"Fay Black,,,,,A6\n" + // row 8: no number
		"Gus Grey,+12025550143,,,,A7\n" + // row 9: global DNC
		"Hal Blue,07400 123003,,,Mars/Olympus,A8\n" // row 10: bad zone
	var res importResult
	e.uploadForm(fmt.Sprintf("/api/v1/admin/campaigns/%d/leads", camp), root, map[string]string{"listName": "March", "importId": "import-csv-1"},
		&formFile{"leads.csv", csv}).json(t, &res)
	if res.ListID == 0 || res.ListName != "March" || res.Imported < 2 || res.Duplicates != 1 || res.DNC != 2 || res.DNCNumbersRemoved != 1 {
		t.Fatalf("csv import %+v", res)
	}
	if res.Imported+res.Rejected != res.Rows {
		t.Errorf("imported %d + rejected %d != rows %d", res.Imported, res.Rejected, res.Rows)
	}
	rows := map[int]string{}
	for _, r := range res.Errors {
		rows[r.Row] = r.Reason
	}
	for _, row := range []int{3, 4, 5, 8, 9} {
		if rows[row] == "" {
			t.Errorf("row %d not rejected: %+v", row, res.Errors)
		}
	}
	if rows[2] != "" || rows[6] != "" {
		t.Errorf("good rows rejected: %+v", res.Errors)
	}
	t.Logf("csv: %+v", res)

	// Progress of a finished import.
	var prog struct {
		State                        string
		RowsRead, Accepted, Rejected int
		BytesRead, BytesTotal        int64
		ListID                       int64
	}
	e.must(200, "GET", "/api/v1/admin/lead-imports/import-csv-1", root, "").json(t, &prog)
	if prog.State != "done" || prog.RowsRead != res.Rows || prog.Accepted != res.Imported || prog.BytesRead != int64(len(csv)) || prog.ListID != res.ListID {
		t.Errorf("progress %+v", prog)
	}
	e.must(404, "GET", "/api/v1/admin/lead-imports/never-was", root, "").problem(t)

	// The same list name again is a conflict; the same id is refused.
	if p := e.uploadForm(fmt.Sprintf("/api/v1/admin/campaigns/%d/leads", camp), root, map[string]string{"listName": "March"},
		&formFile{"leads.csv", csv}).problem(t); p.Status != 409 || p.Field != "listName" {
		t.Errorf("duplicate list name: %+v", p)
	}

	// XLSX with an explicit mapping and odd headers.
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	sw.SetRow("A1", []any{"Customer", "Cell", "Landline", "Notes"})
	sw.SetRow("A2", []any{"Ivy", "07400123010", "", "VIP"})
	sw.SetRow("A3", []any{"Jon", "07400123011", "02079460011", ""})
	sw.SetRow("A4", []any{"Kim", "07400123010", "", "dup"})
	sw.SetRow("A5", []any{"Lou", "12", "", "short"})
	sw.Flush()
	var xb bytes.Buffer
	if err := f.Write(&xb); err != nil {
		t.Fatal(err)
	}
	var xres importResult
	e.uploadForm(fmt.Sprintf("/api/v1/admin/campaigns/%d/leads", camp), root,
		map[string]string{"mapping": `{"name":"Customer","phones":["Cell","Landline"]}`},
		&formFile{"book.xlsx", xb.String()}).json(t, &xres)
	if xres.Imported != 2 || xres.Rejected != 2 || xres.Duplicates != 1 || len(xres.Errors) != 2 || xres.Errors[0].Row != 4 || xres.Errors[1].Row != 5 {
		t.Fatalf("xlsx import %+v", xres)
	}
	if !strings.HasPrefix(xres.ListName, "book.xlsx ") {
		t.Errorf("default list name %q", xres.ListName)
	}

	// Lead lists with counts.
	var lists []struct {
		ID       int64
		Name     string
		Total    int64
		ByStatus map[string]int64
	}
	e.must(200, "GET", fmt.Sprintf("/api/v1/admin/campaigns/%d/lead-lists", camp), root, "").json(t, &lists)
	if len(lists) != 2 || lists[0].ID != res.ListID || lists[0].Total != int64(res.Imported) || lists[0].ByStatus["new"] != int64(res.Imported) || lists[1].Total != 2 {
		t.Errorf("lead lists %+v", lists)
	}
	e.must(404, "GET", "/api/v1/admin/campaigns/999999/lead-lists", root, "")

	// Refusals.
	base := fmt.Sprintf("/api/v1/admin/campaigns/%d/leads", camp)
	for _, c := range []struct {
		fields map[string]string
		file   *formFile
		field  string
	}{
		{nil, nil, "file"},
		{nil, &formFile{"x.pdf", "%PDF"}, "file"},
		{nil, &formFile{"x.csv", ""}, "file"},
		{nil, &formFile{"x.csv", "Name,Colour\nA,red\n"}, "mapping"},
		{map[string]string{"mapping": `{"phones":"Mobile"}`}, &formFile{"x.csv", csv}, "mapping"},
		{map[string]string{"mapping": `{"phones":["Nope"]}`}, &formFile{"x.csv", csv}, "mapping"},
		{nil, &formFile{"x.xlsx", "not a zip"}, "file"},
		{map[string]string{"importId": "bad id!"}, &formFile{"x.csv", csv}, "importId"},
	} {
		p := e.uploadForm(base, root, c.fields, c.file).problem(t)
		if p.Status != 400 || p.Field != c.field {
			t.Errorf("%v %v: %+v, want 400 on %s", c.fields, c.file, p, c.field)
		}
	}
	if r := e.doHdr("POST", base, root, "Mobile\n07400123001\n", map[string]string{"Content-Type": "text/csv"}); r.StatusCode != 415 {
		t.Errorf("non-multipart → %d", r.StatusCode)
	}
	e.uploadForm("/api/v1/admin/campaigns/999999/leads", root, nil, &formFile{"x.csv", csv}).problem(t)
	if p := e.uploadForm(fmt.Sprintf("/api/v1/admin/campaigns/%d/leads", e.campaign), root, nil, &formFile{"x.csv", csv}).problem(t); p.Status != 409 {
		t.Errorf("inbound campaign lead upload %+v", p)
	}
	// A failed import leaves no list behind.
	e.must(200, "GET", fmt.Sprintf("/api/v1/admin/campaigns/%d/lead-lists", camp), root, "").json(t, &lists)
	if len(lists) != 2 {
		t.Errorf("lists after failures: %+v", lists)
	}

	// DNC removal.
	var rm struct{ Removed int }
	e.must(200, "DELETE", "/api/v1/admin/dnc", root, fmt.Sprintf(`{"numbers":["07400123999"],"campaignId":%d}`, camp)).json(t, &rm)
	if rm.Removed != 1 {
		t.Errorf("removed %d", rm.Removed)
	}
	e.must(200, "DELETE", "/api/v1/admin/dnc", root, `{"numbers":["+12025550143"]}`).json(t, &rm)
	if rm.Removed != 1 {
		t.Errorf("removed global %d", rm.Removed)
	}
}

// TestLeadImportProgressWhileImporting polls the progress endpoint during
// a 20,000-row import.
func TestLeadImportProgressWhileImporting(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	camp := e.outbound(root, "Big", "")
	var b strings.Builder
	b.WriteString("Name,Mobile,Account\n")
	const n = 20000
	for i := range n {
		fmt.Fprintf(&b, "Lead %d,+447400%06d,ACC%d\n", i, i, i)
	}
	var wg sync.WaitGroup
	var res importResult
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.uploadForm(fmt.Sprintf("/api/v1/admin/campaigns/%d/leads", camp), root, map[string]string{"importId": "big-import"},
			&formFile{"big.csv", b.String()}).json(t, &res)
	}()
	seen := 0
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		r := e.do("GET", "/api/v1/admin/lead-imports/big-import", root, "")
		if r.StatusCode == 404 {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		var p struct {
			State                 string
			RowsRead              int
			BytesRead, BytesTotal int64
		}
		r.json(t, &p)
		if p.State == "importing" && p.RowsRead > 0 && p.RowsRead < n && p.BytesRead < p.BytesTotal {
			seen++
		}
		if p.State != "importing" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Wait()
	if res.Imported != n {
		t.Fatalf("imported %+v", res)
	}
	if seen == 0 {
		t.Errorf("never saw the import in progress")
	}
	t.Logf("saw %d progress updates while importing %d rows", seen, n)
}

func TestDialerSettingsValidation(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	for _, c := range []struct{ settings, field string }{
		{`{"dialer":{"mode":"turbo"}}`, "settings.dialer.mode"},
		{`{"dialer":{"ringSeconds":5}}`, "settings.dialer.ringSeconds"},
		{`{"dialer":{"maxAbandonRate":0.5}}`, "settings.dialer.maxAbandonRate"},
		{`{"dialer":{"callingWindow":{"start":"25:00"}}}`, "settings.dialer.callingWindow.start"},
		{`{"dialer":{"bogus":1}}`, "settings.dialer"},
		{`{"dialer":{"leadLists":[1]}}`, "settings.dialer.leadLists[0]"},
		{`{"dialer":"fast"}`, "settings.dialer"},
	} {
		body := fmt.Sprintf(`{"name":"X","kind":"outbound","settings":%s}`, c.settings)
		p := e.must(400, "POST", "/api/v1/admin/campaigns", root, body).problem(t)
		if p.Field != c.field {
			t.Errorf("%s: field %q (%s), want %q", c.settings, p.Field, p.Detail, c.field)
		}
	}
	// An inbound campaign with dialler settings is validated too.
	e.must(400, "POST", "/api/v1/admin/campaigns", root, `{"name":"In","settings":{"dialer":{"mode":"turbo"}}}`)
	e.must(201, "POST", "/api/v1/admin/campaigns", root, `{"name":"In","settings":{"other":1}}`)

	good := `{"mode":"predictive","ringSeconds":20,"maxAbandonRate":0.03,"callingWindow":{"start":"09:00","end":"20:00"}}`
	camp := e.outbound(root, "Out", fmt.Sprintf(`,"settings":{"dialer":%s}`, good))
	other := e.outbound(root, "Other", "")
	var lr, olr importResult
	e.uploadForm(fmt.Sprintf("/api/v1/admin/campaigns/%d/leads", camp), root, nil, &formFile{"a.csv", "Mobile\n07400123001\n"}).json(t, &lr)
	e.uploadForm(fmt.Sprintf("/api/v1/admin/campaigns/%d/leads", other), root, nil, &formFile{"b.csv", "Mobile\n07400123001\n"}).json(t, &olr)
	put := func(lists string) resp {
		return e.do("PUT", fmt.Sprintf("/api/v1/admin/campaigns/%d", camp), root,
			fmt.Sprintf(`{"name":"Out","kind":"outbound","agentIds":[%d],"settings":{"dialer":{"mode":"preview","leadLists":%s}}}`, e.ids["alice"], lists))
	}
	if r := put(fmt.Sprintf("[%d]", lr.ListID)); r.StatusCode != 200 {
		t.Fatalf("own list: %d %s", r.StatusCode, r.body)
	}
	if p := put(fmt.Sprintf("[%d,%d]", lr.ListID, olr.ListID)).problem(t); p.Status != 400 || p.Field != "settings.dialer.leadLists[1]" {
		t.Errorf("other campaign's list: %+v", p)
	}
	if p := e.do("PUT", fmt.Sprintf("/api/v1/admin/campaigns/%d", camp), root,
		`{"name":"Out","kind":"outbound","settings":{"dialer":{"previewTimeoutSeconds":"ten"}}}`).problem(t); p.Field != "settings.dialer.previewTimeoutSeconds" {
		t.Errorf("wrong type: %+v", p)
	}
}

// dueAt finds a time after from inside the default calling window in London.
func dueAt(t *testing.T, from time.Time) time.Time {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	w := dialer.DefaultSettings().CallingWindow
	at := from.Add(2 * time.Hour).Truncate(time.Hour)
	for !w.Contains(at, loc) || !w.Contains(at.Add(30*time.Minute), loc) {
		at = at.Add(time.Hour)
	}
	return at.Add(15 * time.Minute).UTC()
}

func TestCallbacksAPI(t *testing.T) {
	e := newEnv(t, envOptions{tune: withDialer("")})
	root, alice, bob, sue := e.login("root"), e.login("alice"), e.login("bob"), e.login("sue")
	camp := e.outbound(root, "Out", "")
	due := dueAt(t, time.Now()).Format(time.RFC3339)

	// No current or last call: the campaign is needed.
	if p := e.must(400, "POST", "/api/v1/agent/callbacks", alice, fmt.Sprintf(`{"number":"02079460123","dueAt":%q}`, due)).problem(t); p.Field != "campaignId" {
		t.Errorf("no campaign: %+v", p)
	}
	for _, c := range []struct{ body, field string }{
		{fmt.Sprintf(`{"campaignId":%d,"number":"123","dueAt":%q}`, camp, due), "number"},
		{fmt.Sprintf(`{"campaignId":%d,"number":"02079460123","dueAt":"2020-01-01T10:00:00Z"}`, camp), "dueAt"},
		{fmt.Sprintf(`{"campaignId":%d,"dueAt":%q}`, camp, due), "number"},
		{fmt.Sprintf(`{"campaignId":%d,"number":"02079460123","dueAt":"tomorrow"}`, camp), "dueAt"},
		{fmt.Sprintf(`{"campaignId":%d,"number":"02079460123","dueAt":%q}`, e.campaign+1000, due), "campaignId"},
	} {
		if p := e.must(400, "POST", "/api/v1/agent/callbacks", alice, c.body).problem(t); p.Field != c.field {
			t.Errorf("%s: field %q (%s), want %s", c.body, p.Field, p.Detail, c.field)
		}
	}
	// Sue is not on the outbound campaign.
	if p := e.must(400, "POST", "/api/v1/agent/callbacks", sue, fmt.Sprintf(`{"campaignId":%d,"number":"02079460123","dueAt":%q}`, camp, due)).problem(t); p.Field != "campaignId" {
		t.Errorf("not on campaign: %+v", p)
	}

	var own, queue dialer.Callback
	e.must(201, "POST", "/api/v1/agent/callbacks", alice, fmt.Sprintf(`{"campaignId":%d,"number":"020 7946 0123","dueAt":%q,"note":"after 10"}`, camp, due)).json(t, &own)
	if own.Number != "+442079460123" || own.AgentID == nil || *own.AgentID != e.ids["alice"] || own.Status != "pending" || own.Note != "after 10" {
		t.Errorf("own callback %+v", own)
	}
	e.must(201, "POST", "/api/v1/agent/callbacks", alice, fmt.Sprintf(`{"campaignId":%d,"number":"+447400123123","dueAt":%q,"forQueue":true}`, camp, due)).json(t, &queue)
	if queue.AgentID != nil {
		t.Errorf("queue callback has an agent: %+v", queue)
	}

	var mine []dialer.Callback
	e.must(200, "GET", "/api/v1/agent/callbacks", alice, "").json(t, &mine)
	if len(mine) != 1 || mine[0].ID != own.ID {
		t.Errorf("alice's callbacks %+v", mine)
	}
	e.must(200, "GET", "/api/v1/agent/callbacks", bob, "").json(t, &mine)
	if len(mine) != 0 {
		t.Errorf("bob's callbacks %+v", mine)
	}
	e.must(404, "DELETE", fmt.Sprintf("/api/v1/agent/callbacks/%d", own.ID), bob, "").problem(t)
	e.must(404, "DELETE", "/api/v1/agent/callbacks/999999", alice, "").problem(t)
	e.must(204, "DELETE", fmt.Sprintf("/api/v1/agent/callbacks/%d", own.ID), alice, "")
	if p := e.must(409, "DELETE", fmt.Sprintf("/api/v1/agent/callbacks/%d", own.ID), alice, "").problem(t); p.Field != "status" {
		t.Errorf("cancel twice %+v", p)
	}

	var all []dialer.Callback
	e.must(200, "GET", fmt.Sprintf("/api/v1/callbacks?campaignId=%d", camp), sue, "").json(t, &all)
	if len(all) != 2 || all[0].Status != "cancelled" && all[1].Status != "cancelled" {
		t.Errorf("supervisor view %+v", all)
	}
	e.must(200, "GET", fmt.Sprintf("/api/v1/callbacks?campaignId=%d&status=pending", camp), root, "").json(t, &all)
	if len(all) != 1 || all[0].ID != queue.ID {
		t.Errorf("pending %+v", all)
	}
	e.must(400, "GET", "/api/v1/callbacks?campaignId=abc", sue, "").problem(t)
	e.must(400, "GET", "/api/v1/callbacks?status=lost", sue, "").problem(t)
	e.must(403, "GET", "/api/v1/callbacks", alice, "").problem(t)
	// The queue callback she made is hers to cancel.
	e.must(204, "DELETE", fmt.Sprintf("/api/v1/agent/callbacks/%d", queue.ID), alice, "")

	// Dialplan route disabled without a secret.
	e.must(404, "POST", "/api/v1/dialplan/callback", "", `{"campaign":"1","number":"1","when":"+1h"}`).problem(t)
}

func TestCallbacksWithoutDialerAre503(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice := e.login("alice")
	e.must(503, "GET", "/api/v1/agent/callbacks", alice, "").problem(t)
	e.must(503, "POST", "/api/v1/agent/callbacks", alice, `{"dueAt":"2030-01-01T10:00:00Z"}`).problem(t)
	e.must(503, "GET", "/api/v1/callbacks", e.login("sue"), "").problem(t)
}

func TestDialplanCallback(t *testing.T) {
	const secret = "dialplan-s3cret"
	e := newEnv(t, envOptions{tune: withDialer(secret)})
	root := e.login("root")
	camp := e.outbound(root, "Out", `,"dids":["+441234500001"]`)
	due := dueAt(t, time.Now()).Format(time.RFC3339)
	path := "/api/v1/dialplan/callback"
	body := fmt.Sprintf(`{"campaign":"%d","number":"02079460123","when":%q}`, camp, due)

	if p := e.must(401, "POST", path, "", body).problem(t); !strings.Contains(p.Detail, "X-Ctid-Dialplan-Secret") {
		t.Errorf("no secret %+v", p)
	}
	e.doHdr("POST", path, "", body, map[string]string{api.DialplanSecretHeader: "wrong"}).problem(t)
	// A bearer token is not the dialplan secret.
	if r := e.do("POST", path, root, body); r.StatusCode != 401 {
		t.Errorf("bearer → %d", r.StatusCode)
	}

	hdr := map[string]string{api.DialplanSecretHeader: secret}
	var cb dialer.Callback
	r := e.doHdr("POST", path, "", body, hdr)
	if r.StatusCode != 201 {
		t.Fatalf("json → %d %s", r.StatusCode, r.body)
	}
	r.json(t, &cb)
	if cb.CampaignID != camp || cb.AgentID != nil || cb.Number != "+442079460123" || !strings.Contains(cb.Note, "IVR") {
		t.Errorf("callback %+v", cb)
	}

	// As Asterisk's CURL() sends it: a form, the campaign by DID.
	form := url.Values{"campaign": {"441234500001"}, "number": {"+447400123123"}, "when": {due}}.Encode()
	hdr["Content-Type"] = "application/x-www-form-urlencoded"
	r = e.doHdr("POST", path, "", form, hdr)
	if r.StatusCode != 201 {
		t.Fatalf("form → %d %s", r.StatusCode, r.body)
	}
	r.json(t, &cb)
	if cb.CampaignID != camp || cb.Number != "+447400123123" {
		t.Errorf("form callback %+v", cb)
	}
	for _, c := range []struct{ form, field string }{
		{url.Values{"campaign": {"+449999999999"}, "number": {"+447400123123"}, "when": {due}}.Encode(), "campaign"},
		{url.Values{"campaign": {fmt.Sprint(camp)}, "number": {"+447400123123"}, "when": {"someday"}}.Encode(), "when"},
		{url.Values{"campaign": {fmt.Sprint(camp)}, "number": {"nope"}, "when": {due}}.Encode(), "number"},
		{url.Values{"campaign": {fmt.Sprint(camp)}, "number": {"+447400123123"}, "when": {due}, "x": {"1"}}.Encode(), "x"},
	} {
		r := e.doHdr("POST", path, "", c.form, hdr)
		if p := r.problem(t); p.Status != 400 || p.Field != c.field {
			t.Errorf("%s: %+v, want 400 on %s", c.form, p, c.field)
		}
	}
	var all []dialer.Callback
	e.must(200, "GET", fmt.Sprintf("/api/v1/callbacks?campaignId=%d", camp), root, "").json(t, &all)
	if len(all) != 2 {
		t.Errorf("callbacks %+v", all)
	}
}
