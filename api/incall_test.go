package api_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// onCall logs alice in on a persistent phone, makes her Ready and puts an
// inbound call through to her. It returns the websocket, the customer
// channel and the interaction id.
func (e *env) onCall(tok, ext string) (*wsClient, string, string) {
	e.t.Helper()
	e.Double.Script("PJSIP/"+ext, aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	e.must(200, "POST", "/api/v1/agent/login", tok, "")
	ws := e.dialWS(tok, 0)
	ws.next("hello")
	e.must(200, "POST", "/api/v1/agent/connect", tok, `{"mode":"system_calls","number":"`+ext+`","persistent":true}`)
	e.waitState(tok, cti.AgentPaused)
	e.must(200, "POST", "/api/v1/agent/ready", tok, "")
	e.waitState(tok, cti.AgentReady)
	cust := e.Double.Inbound("ctid", []string{"inbound", did}, "+447700900123", did, nil)
	var info cti.CallInfo
	json.Unmarshal(ws.next("call.connected").Data, &info)
	e.waitState(tok, cti.AgentOnCall)
	return ws, cust, info.InteractionID
}

// eventually polls the agent's snapshot until cond holds.
func (e *env) eventually(tok, what string, cond func(cti.AgentSnapshot) bool) cti.AgentSnapshot {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := e.snapshot(tok)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s; snapshot state %s", what, s.State.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTransferBlindToNumberThenWrap(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.login("alice")
	ws, cust, _ := e.onCall(tok, "1001")
	e.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 50 * time.Millisecond})

	for _, c := range []struct{ body, field string }{
		{`{"type":"number","target":"not-a-number"}`, "target"},
		{`{"type":"pigeon","target":"x"}`, "type"},
		{`{"type":"number"}`, "target"},
		{`{"type":"number","target":"02079460999","mode":"later"}`, "mode"},
		{`{"type":"agent","target":"nobody-here"}`, "target"},
	} {
		if p := e.must(400, "POST", "/api/v1/agent/transfer", tok, c.body).problem(t); p.Field != c.field {
			t.Errorf("%s: field %q, want %q", c.body, p.Field, c.field)
		}
	}
	if s := e.snapshot(tok); s.State.State != cti.AgentOnCall || s.Transfer != nil {
		t.Fatalf("bad transfers changed state: %s %+v", s.State.State, s.Transfer)
	}
	// Nothing to complete yet.
	e.must(409, "POST", "/api/v1/agent/transfer/complete", tok, "").problem(t)

	var v cti.TransferView
	e.must(200, "POST", "/api/v1/agent/transfer", tok, `{"type":"number","target":"020 7946 0999","mode":"blind"}`).json(t, &v)
	if v.State != cti.XferRinging || v.Type != "number" || v.Mode != "blind" {
		t.Fatalf("transfer view %+v", v)
	}
	ws.next("transfer.state")
	ws.next("wrap.started")
	e.waitState(tok, cti.AgentOnWrap)
	ctitest.Eventually(t, 3*time.Second, "customer bridged with the destination", func() bool {
		c, _ := e.Double.Channel(cust)
		d, _ := e.Double.Channel("xf-" + v.ID)
		return c.Bridge != "" && c.Bridge == d.Bridge
	})
	e.must(200, "POST", "/api/v1/agent/wrap", tok, `{"code":"SALE","next":"ready"}`)
	e.waitState(tok, cti.AgentReady)
}

func TestConsultMergeConferenceLimitLeave(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.login("alice")
	ws, cust, _ := e.onCall(tok, "1001")
	e.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})

	e.must(409, "POST", "/api/v1/agent/transfer/merge", tok, "").problem(t)
	e.must(409, "POST", "/api/v1/agent/conference/leave", tok, "").problem(t)
	e.must(200, "POST", "/api/v1/agent/transfer", tok, `{"type":"number","target":"+442079460001","mode":"consult"}`)
	e.eventually(tok, "consulting", func(s cti.AgentSnapshot) bool { return s.Transfer != nil && s.Transfer.State == cti.XferConsulting })
	var v cti.TransferView
	e.must(200, "POST", "/api/v1/agent/transfer/merge", tok, "").json(t, &v)
	if v.State != cti.XferConferenced {
		t.Fatalf("merge → %+v", v)
	}
	ws.next("conference.state")
	for i := 2; i <= 3; i++ { // the default limit: 3 parties besides customer and agent
		e.must(200, "POST", "/api/v1/agent/transfer", tok, fmt.Sprintf(`{"type":"number","target":"+44207946000%d"}`, i))
		e.eventually(tok, fmt.Sprintf("%d parties", i), func(s cti.AgentSnapshot) bool {
			return s.Conference != nil && len(s.Conference.Parties) == i && s.Transfer == nil
		})
	}
	p := e.must(409, "POST", "/api/v1/agent/transfer", tok, `{"type":"number","target":"+442079460005"}`).problem(t)
	if !strings.Contains(p.Detail, "full") {
		t.Fatalf("4th party: %+v", p)
	}
	s := e.snapshot(tok)
	if s.Conference == nil || len(s.Conference.Parties) != 3 || s.Conference.Max != 3 {
		t.Fatalf("conference after refusal %+v", s.Conference)
	}
	// A plain hang-up asks to choose leave or terminate.
	e.must(409, "POST", "/api/v1/agent/hangup", tok, "").problem(t)
	var after cti.AgentSnapshot
	e.must(200, "POST", "/api/v1/agent/conference/leave", tok, "").json(t, &after)
	e.waitState(tok, cti.AgentOnWrap)
	c, _ := e.Double.Channel(cust)
	if b, _ := e.Double.Bridge(c.Bridge); len(b.Channels) != 4 { // the customer and 3 parties
		t.Fatalf("conference after leave: %+v", b)
	}
	e.Double.HangupChannel(cust, 16)
}

func TestRecordingAndBookmarkErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.login("alice") // no recording permission; the campaign does not record
	e.onCall(tok, "1001")
	if p := e.must(409, "POST", "/api/v1/agent/bookmarks", tok, `{"note":"here"}`).problem(t); !strings.Contains(p.Detail, "record") {
		t.Fatalf("bookmark when not recording: %+v", p)
	}
	e.must(403, "POST", "/api/v1/agent/recording/pause", tok, "").problem(t)
	e.must(403, "POST", "/api/v1/agent/recording/resume", tok, "").problem(t)
	e.must(400, "POST", "/api/v1/agent/bookmarks", tok, `{"note":"`+strings.Repeat("x", 1001)+`"}`).problem(t)
	// Announcements: none on this campaign.
	e.must(404, "POST", "/api/v1/agent/announcements/1/play", tok, "").problem(t)
	e.must(404, "POST", "/api/v1/agent/announcements/x/play", tok, "").problem(t)
	e.must(409, "POST", "/api/v1/agent/announcements/stop", tok, "").problem(t)
	// Payment is not enabled here.
	e.must(403, "POST", "/api/v1/agent/payment/start", tok, "").problem(t)
	e.must(409, "POST", "/api/v1/agent/payment/exit", tok, "").problem(t)
	// Preview: none offered.
	e.must(409, "POST", "/api/v1/agent/preview/skip", tok, "").problem(t)
	e.must(400, "POST", "/api/v1/agent/preview/dial", tok, `{}`).problem(t)
}

// recordingCampaign turns recording and sandbox payments on for the test
// campaign and gives alice the recording permission.
func (e *env) recordingCampaign() {
	e.t.Helper()
	root := e.login("root")
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/campaigns/%d", e.campaign), root, fmt.Sprintf(`{"name":"Sales","dids":[%q],"platformNumber":%q,
		"recording":true,"paymentEnabled":true,"settings":{"payment":{"kind":"sandbox","currency":"GBP"}},
		"wrapCodes":[{"code":"SALE","label":"Sale"}],"agentIds":[%d,%d,%d]}`, did, did, e.ids["alice"], e.ids["bob"], e.ids["sue"]))
	e.must(200, "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", e.ids["alice"]), root, `{"recordingControl":true}`)
}

func TestRecordingPauseBookmarksAndFileAccess(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.recordingCampaign()
	tok := e.login("alice")
	ws, cust, iid := e.onCall(tok, "1001")
	s := e.eventually(tok, "recording", func(s cti.AgentSnapshot) bool { return s.Recording != nil && s.Recording.State == "recording" })
	if s.Recording.Icon != "red" || !s.Recording.Allowed {
		t.Fatalf("recording view %+v", s.Recording)
	}
	time.Sleep(100 * time.Millisecond)
	var bm api_Bookmark
	e.must(201, "POST", "/api/v1/agent/bookmarks", tok, `{"note":"promised a refund"}`).json(t, &bm)
	if bm.Note != "promised a refund" || bm.InteractionID != iid || bm.RecordingName == "" || bm.Username != "alice" {
		t.Fatalf("bookmark %+v", bm)
	}
	ws.next("recording.bookmark")
	e.must(200, "POST", "/api/v1/agent/recording/pause", tok, "").json(t, &s)
	if s.Recording == nil || s.Recording.State != "paused" || s.Recording.Icon != "white" {
		t.Fatalf("after pause %+v", s.Recording)
	}
	e.must(200, "POST", "/api/v1/agent/recording/resume", tok, "")
	e.eventually(tok, "resumed", func(s cti.AgentSnapshot) bool { return s.Recording != nil && s.Recording.State == "recording" })
	e.must(201, "POST", "/api/v1/agent/bookmarks", tok, "")
	e.Double.HangupChannel(cust, 16)
	e.waitState(tok, cti.AgentOnWrap)
	e.must(200, "POST", "/api/v1/agent/wrap", tok, `{"code":"SALE","next":"paused","reason":"Break"}`)
	e.Engine.Flush(ctx())

	var recs []struct {
		Name, InteractionID, State, File string
		DurationMs                       int64
		Bookmarks                        []struct {
			OffsetMs       int64
			Note, Username string
			At             time.Time
		}
		Events []struct {
			Action, Reason, Username string
			At                       time.Time
		}
	}
	ctitest.Eventually(t, 15*time.Second, "recording listed as done", func() bool {
		e.must(200, "GET", "/api/v1/recordings?interactionId="+iid, tok, "").json(t, &recs)
		return len(recs) == 1 && recs[0].State != "recording" && recs[0].State != "starting"
	})
	r := recs[0]
	if r.InteractionID != iid || len(r.Bookmarks) != 2 || r.Bookmarks[0].Note != "promised a refund" || r.Bookmarks[0].Username != "alice" ||
		r.Bookmarks[0].OffsetMs > r.Bookmarks[1].OffsetMs {
		t.Fatalf("recording %+v", r)
	}
	var audit []string
	for _, ev := range r.Events {
		if ev.Action == "pause" || ev.Action == "resume" {
			audit = append(audit, ev.Action+":"+ev.Username)
		}
	}
	if strings.Join(audit, " ") != "pause:alice resume:alice" {
		t.Fatalf("audit %v (events %+v)", audit, r.Events)
	}
	// Everyone's view of the list: bob handled nothing; sue sees the
	// campaigns she supervises (none until an admin assigns this one, as in
	// the call history); root sees all.
	var none []any
	e.must(200, "GET", "/api/v1/recordings?interactionId="+iid, e.login("bob"), "").json(t, &none)
	if len(none) != 0 {
		t.Fatalf("bob sees %v", none)
	}
	e.must(200, "GET", "/api/v1/recordings", e.login("sue"), "").json(t, &none)
	if len(none) != 0 {
		t.Fatalf("a supervisor of no campaign sees %v", none)
	}
	e.must(404, "GET", "/api/v1/recordings/"+recs[0].Name+"/file", e.login("sue"), "")
	e.must(200, "PUT", fmt.Sprintf("/api/v1/admin/supervisors/%d/campaigns", e.ids["sue"]), e.login("root"), fmt.Sprintf(`{"campaignIds":[%d]}`, e.campaign))
	e.must(200, "GET", "/api/v1/recordings", e.login("sue"), "").json(t, &recs)
	if len(recs) != 1 {
		t.Fatalf("supervisor of the campaign sees %d", len(recs))
	}
	// The file: agent who handled it, supervisor and admin get the audio;
	// another agent and a bogus name get 404 alike.
	for _, c := range []struct {
		user   string
		status int
	}{{"alice", 200}, {"sue", 200}, {"root", 200}, {"bob", 404}} {
		got := e.do("GET", r.File, e.login(c.user), "")
		if got.StatusCode != c.status {
			t.Fatalf("%s GET %s → %d, want %d: %.200s", c.user, r.File, got.StatusCode, c.status, got.body)
		}
		if c.status == 200 && (!bytes.HasPrefix(got.body, []byte("RIFF")) || got.Header.Get("Content-Type") != "audio/wav") {
			t.Fatalf("%s got %q %.12q", c.user, got.Header.Get("Content-Type"), got.body)
		}
		if c.status == 404 {
			got.problem(t)
		}
	}
	p404 := e.must(404, "GET", "/api/v1/recordings/rec-nothing/file", e.login("sue"), "").problem(t)
	pBob := e.must(404, "GET", r.File, e.login("bob"), "").problem(t)
	if p404.Detail != pBob.Detail {
		t.Fatalf("404s differ, leaking existence: %q vs %q", p404.Detail, pBob.Detail)
	}
	e.must(401, "GET", r.File, "", "")
}

type api_Bookmark struct {
	RecordingName, InteractionID, Note, Username string
	OffsetMs                                     int64
}

func TestPaymentOverAPI(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.recordingCampaign()
	tok := e.login("alice")
	ws, cust, _ := e.onCall(tok, "1001")
	e.must(409, "POST", "/api/v1/agent/payment/submit", tok, `{"reference":"INV-1","expiry":"12/39","cardholderName":"A Customer","amount":"12.34"}`).problem(t)
	var pv cti.PaymentView
	e.must(200, "POST", "/api/v1/agent/payment/start", tok, "").json(t, &pv)
	if pv.Progress.CardDigits != 0 {
		t.Fatalf("start %+v", pv)
	}
	ws.next("payment.started")
	e.must(409, "POST", "/api/v1/agent/payment/start", tok, "").problem(t)

	// A Luhn-invalid card: submit is refused and nothing changes.
	e.Double.KeyDTMF(cust, "4242424242424241#")
	before := e.eventually(tok, "invalid card reported", func(s cti.AgentSnapshot) bool {
		return s.Payment != nil && s.Payment.Progress.Error != ""
	})
	pay := `{"reference":"INV-1","expiry":"12/39","cardholderName":"A Customer","amount":"12.34"}`
	if p := e.must(400, "POST", "/api/v1/agent/payment/submit", tok, pay).problem(t); p.Field != "card" {
		t.Fatalf("Luhn-invalid submit %+v", p)
	}
	if after := e.snapshot(tok); after.Payment == nil || after.Payment.Charging || after.Payment.Result != nil ||
		after.Payment.Progress.CardDigits != before.Payment.Progress.CardDigits {
		t.Fatalf("state changed: %+v → %+v", before.Payment, after.Payment)
	}
	e.must(200, "POST", "/api/v1/agent/payment/reset-card", tok, "").json(t, &pv)
	if pv.Progress.CardDigits != 0 {
		t.Fatalf("after reset %+v", pv.Progress)
	}
	e.Double.KeyDTMF(cust, "4242424242424242#123")
	ready := e.eventually(tok, "card and CVV keyed", func(s cti.AgentSnapshot) bool { return s.Payment != nil && s.Payment.Progress.CVVValid })
	if ready.Payment.Progress.CardLast4 != "4242" || ready.Payment.Progress.CardBrand == "" || ready.Payment.Progress.CardDigits != 16 {
		t.Fatalf("progress %+v", ready.Payment.Progress)
	}
	// Expired card, bad amount, missing field: 400, state unchanged.
	for _, c := range []struct{ body, field string }{
		{`{"reference":"INV-1","expiry":"01/20","cardholderName":"A Customer","amount":"12.34"}`, "expiry"},
		{`{"reference":"INV-1","expiry":"12/39","cardholderName":"A Customer","amount":"twelve"}`, "amount"},
		{`{"reference":"INV-1","expiry":"12/39","amount":"12.34"}`, "cardholderName"},
		{`{"reference":"INV-1","expiry":"12/39","cardholderName":"A","amount":"1","cardNumber":"4242424242424242"}`, "cardNumber"},
	} {
		if p := e.must(400, "POST", "/api/v1/agent/payment/submit", tok, c.body).problem(t); p.Field != c.field {
			t.Errorf("%s: field %q, want %q (%s)", c.body, p.Field, c.field, p.Detail)
		}
	}
	if s := e.snapshot(tok); s.Payment == nil || !s.Payment.Progress.CVVValid || s.Payment.Charging || s.Payment.Result != nil {
		t.Fatalf("state changed by bad submits: %+v", s.Payment)
	}
	e.must(200, "POST", "/api/v1/agent/payment/submit", tok, pay)
	var res cti.PaymentView
	json.Unmarshal(ws.next("payment.result").Data, &res)
	if res.Result == nil || !res.Result.Approved || res.Result.Receipt == "" || res.Result.CardLast4 != "4242" {
		t.Fatalf("result %+v", res)
	}
	var after cti.AgentSnapshot
	e.must(200, "POST", "/api/v1/agent/payment/exit", tok, "").json(t, &after)
	if after.Payment != nil {
		t.Fatalf("payment still shown after exit: %+v", after.Payment)
	}
	ws.next("payment.ended")
	// Nothing the agent's browser received carries the card number or CVV.
	var all bytes.Buffer
	for {
		select {
		case m := <-ws.msgs:
			b, _ := json.Marshal(m)
			all.Write(b)
			continue
		case <-time.After(200 * time.Millisecond):
		}
		break
	}
	s, _ := json.Marshal(e.snapshot(tok))
	all.Write(s)
	if strings.Contains(all.String(), "4242424242424242") || strings.Contains(all.String(), "424242424242") {
		t.Fatal("card number reached the agent")
	}
}

// --- announcements --------------------------------------------------------------------

func wav(channels, rate, bits int, samples int) []byte {
	var b bytes.Buffer
	data := samples * channels * bits / 8
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, uint32(16))
	binary.Write(&b, binary.LittleEndian, uint16(1))
	binary.Write(&b, binary.LittleEndian, uint16(channels))
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*channels*bits/8))
	binary.Write(&b, binary.LittleEndian, uint16(channels*bits/8))
	binary.Write(&b, binary.LittleEndian, uint16(bits))
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	b.Write(make([]byte, data))
	return b.Bytes()
}

// upload posts a multipart announcement and checks the response against the document.
func (e *env) upload(path, tok, name string, file []byte) resp {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("name", name)
	fw, _ := w.CreateFormFile("file", "a.wav")
	fw.Write(file)
	w.Close()
	req, _ := http.NewRequest("POST", e.base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{res, b}
	if err := checkAgainstDoc("POST", path, r); err != nil {
		e.t.Errorf("OpenAPI: POST %s → %d: %v\n%s", path, res.StatusCode, err, b)
	}
	return r
}

func TestAnnouncementsAdminUploadMediaAndPlay(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	base := fmt.Sprintf("/api/v1/admin/campaigns/%d/announcements", e.campaign)
	var l []map[string]any
	e.must(200, "GET", base, root, "").json(t, &l)
	if len(l) != 0 {
		t.Fatalf("announcements %v", l)
	}
	for _, c := range []struct {
		file []byte
		want string
	}{
		{[]byte("not a wav at all"), "RIFF"},
		{wav(2, 8000, 16, 800), "mono"},
		{wav(1, 44100, 16, 800), "8000 or 16000"},
		{wav(1, 8000, 8, 800), "16-bit"},
		{wav(1, 8000, 16, 0), "no audio"},
		{wav(1, 8000, 16, 800)[:30], "truncated"},
		{append(wav(1, 8000, 16, 5<<20/2), 0, 0), "5 MB"},
	} {
		r := e.upload(base, root, "Bad", c.file)
		if r.StatusCode != 400 {
			t.Fatalf("bad WAV (%s) → %d: %.300s", c.want, r.StatusCode, r.body)
		}
		if p := r.problem(t); p.Field != "file" || !strings.Contains(p.Detail, c.want) {
			t.Errorf("bad WAV: %+v, want %q", p, c.want)
		}
	}
	good := wav(1, 8000, 16, 8000)
	r := e.upload(base, root, "Hold message", good)
	if r.StatusCode != 201 {
		t.Fatalf("upload → %d %s", r.StatusCode, r.body)
	}
	var up struct {
		ID       int64
		Uploaded bool
		Size     int
		Media    string
	}
	r.json(t, &up)
	if !up.Uploaded || up.Size != len(good) || up.Media != "" {
		t.Fatalf("uploaded %+v", up)
	}
	if r := e.upload(base, root, "Hold message", good); r.StatusCode != 409 {
		t.Fatalf("duplicate name → %d", r.StatusCode)
	}
	if r := e.upload(base, e.login("sue"), "X", good); r.StatusCode != 403 {
		t.Fatalf("supervisor upload → %d", r.StatusCode)
	}
	// Asterisk fetches the upload by its token; nothing else gets in.
	var token string
	e.DB.Raw(`SELECT token FROM announcements WHERE id = ?`, up.ID).Scan(&token)
	got := e.must(200, "GET", "/media/"+token+".wav", "", "")
	if !bytes.Equal(got.body, good) || got.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("media file: %q, %d bytes", got.Header.Get("Content-Type"), len(got.body))
	}
	e.must(404, "GET", "/media/"+strings.Repeat("0", 48)+".wav", "", "")
	e.must(404, "GET", "/media/../etc.wav", "", "")

	var sound struct{ ID int64 }
	e.must(201, "POST", base, root, `{"name":"Monkeys","media":"sound:tt-monkeys"}`).json(t, &sound)
	for _, c := range []struct{ body, field string }{
		{`{"name":"Evil","media":"http://evil.example.com/x.wav"}`, "media"},
		{`{"name":"Up","media":"sound:../../etc/passwd"}`, "media"},
		{`{"name":"","media":"sound:beep"}`, "name"},
		{`{"name":"X","media":"sound:beep","wav":"AAAA"}`, "wav"},
	} {
		if p := e.must(400, "POST", base, root, c.body).problem(t); p.Field != c.field {
			t.Errorf("%s: field %q, want %q", c.body, p.Field, c.field)
		}
	}
	e.must(404, "POST", "/api/v1/admin/campaigns/999999/announcements", root, `{"name":"X","media":"sound:beep"}`).problem(t)
	e.must(404, "GET", "/api/v1/admin/campaigns/999999/announcements", root, "").problem(t)
	e.must(200, "GET", base, root, "").json(t, &l)
	if len(l) != 2 {
		t.Fatalf("announcements %v", l)
	}

	// The agent sees them on a call of the campaign, and plays one.
	tok := e.login("alice")
	ws, _, _ := e.onCall(tok, "1001")
	s := e.snapshot(tok)
	if len(s.Announcements) != 2 || s.Announcements[1].Name != "Monkeys" {
		t.Fatalf("snapshot announcements %+v", s.Announcements)
	}
	e.must(204, "POST", fmt.Sprintf("/api/v1/agent/announcements/%d/play", sound.ID), tok, "")
	ws.next("announcement.started")
	e.must(409, "POST", fmt.Sprintf("/api/v1/agent/announcements/%d/play", sound.ID), tok, "").problem(t)
	e.must(204, "POST", "/api/v1/agent/announcements/stop", tok, "")
	ws.next("announcement.finished")

	e.must(204, "DELETE", fmt.Sprintf("%s/%d", base, up.ID), root, "")
	e.must(404, "DELETE", fmt.Sprintf("%s/%d", base, up.ID), root, "").problem(t)
	e.must(404, "GET", "/media/"+token+".wav", "", "")
}

func TestPreviewSkipAndDial(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.login("alice")
	e.Double.Script("PJSIP/1001", aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
	e.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	e.must(200, "POST", "/api/v1/agent/login", tok, "")
	ws := e.dialWS(tok, 0)
	ws.next("hello")
	e.must(200, "POST", "/api/v1/agent/connect", tok, `{"mode":"system_calls","number":"1001","persistent":true}`)
	e.waitState(tok, cti.AgentPaused)
	e.must(200, "POST", "/api/v1/agent/ready", tok, "")
	e.waitState(tok, cti.AgentReady)
	lead := cti.Lead{ID: 7, Name: "Pat Lead", Phones: []string{"+442079460111", "+442079460112"}, Data: map[string]string{"plan": "gold"}}
	if err := e.Engine.OfferPreview(ctx(), e.ids["alice"], e.campaign, lead, "preview-1", 0); err != nil {
		t.Fatal(err)
	}
	ws.next("preview.offered")
	s := e.snapshot(tok) // the preview panel, checked against the document
	if s.Preview == nil || s.Preview.Lead.Name != "Pat Lead" || len(s.Preview.Lead.Phones) != 2 {
		t.Fatalf("preview %+v", s.Preview)
	}
	if p := e.must(400, "POST", "/api/v1/agent/preview/skip", tok, "").problem(t); p.Field != "reason" {
		t.Fatalf("skip without reason: %+v", p)
	}
	e.must(200, "POST", "/api/v1/agent/preview/skip", tok, `{"reason":"Not now"}`)
	ws.next("preview.skipped")
	e.waitState(tok, cti.AgentReady)
	e.must(409, "POST", "/api/v1/agent/preview/dial", tok, `{"number":"+442079460111"}`).problem(t)

	if err := e.Engine.OfferPreview(ctx(), e.ids["alice"], e.campaign, lead, "preview-2", 0); err != nil {
		t.Fatal(err)
	}
	ws.next("preview.offered")
	if p := e.must(400, "POST", "/api/v1/agent/preview/dial", tok, `{"number":"+442079460999"}`).problem(t); p.Field != "number" {
		t.Fatalf("dial a number not on the lead: %+v", p)
	}
	var info cti.CallInfo
	r := e.must(201, "POST", "/api/v1/agent/preview/dial", tok, `{"number":"+442079460112"}`)
	r.json(t, &info)
	if info.Direction != "OUT" || info.CustomerNumber != "+442079460112" || info.Lead == nil || info.Lead.ID != 7 {
		t.Fatalf("preview call %s", r.body)
	}
	ws.next("call.connected")
	if s := e.waitState(tok, cti.AgentOnCall); s.Call == nil || s.Call.Lead == nil || s.Call.Lead.Data["plan"] != "gold" {
		t.Fatalf("call lead %+v", s.Call)
	}
}
