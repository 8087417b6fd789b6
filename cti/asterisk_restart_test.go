package cti_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

// Faults with real phones: Asterisk or ctid dies in the middle of a call.

// TestAsteriskKilledMidCallAndRestarted: Asterisk is SIGKILLed while alice
// talks to a customer (no BYE reaches either phone; their audio stops),
// then started again. ctid sees the new Asterisk, tells alice the call
// ended, and nobody is left On Call; the interrupted call's record is
// ended with a reason and alice wraps it. Her persistent leg is dialled
// again (a new INVITE to her phone, which answers) and she takes the next
// caller over it with audio both ways.
func TestAsteriskKilledMidCallAndRestarted(t *testing.T) {
	r := newInCallRig(t, ctitest.CampaignSpec{}, nil)
	st, alice := r.st, r.alice
	ctx := context.Background()
	cust, info := r.inbound(t, "+447700900123")
	if err := st.Engine.SetNotes(ctx, alice, info.InteractionID, "before the crash"); err != nil {
		t.Fatal(err)
	}

	r.ast.Kill()
	// Alice takes a few seconds to pick up when her phone rings again, so
	// she wraps before the re-dialled leg is answered (as she would).
	r.phone.SetPolicy(sipphone.AnswerAfter(3 * time.Second))
	// A crash sends no BYE: both calls stay up on the phones, silent.
	r.leg.WaitSilence(10 * time.Second)
	cust.WaitSilence(10 * time.Second)
	for _, c := range []*sipphone.Call{r.leg, cust} {
		select {
		case <-c.Ended():
			t.Fatalf("%s ended (%s) although Asterisk was killed", c, c.EndReason())
		default:
		}
	}
	r.ast.Restart()

	ended := decode[cti.CallInfo](t, r.w.Next("call.ended", 60*time.Second))
	if ended.InteractionID != info.InteractionID {
		t.Fatalf("call.ended for %+v, want %s", ended, info.InteractionID)
	}
	r.w.Next("wrap.started", 20*time.Second)
	snap := st.WaitState(t, alice, cti.AgentOnWrap, 20*time.Second)
	t.Logf("alice after the crash: %+v, phone %+v", snap.State, snap.Phone)
	st.Engine.Flush(ctx)
	var rec struct {
		State, EndReason, Notes string
		EndedAt                 *time.Time
	}
	st.DB.Raw(`SELECT state, end_reason, notes, ended_at FROM interactions WHERE id = ?`, info.InteractionID).Scan(&rec)
	t.Logf("the interrupted call's record: %+v", rec)
	if rec.State != string(cti.CallEnded) || rec.EndedAt == nil || rec.EndReason == "" || rec.Notes != "before the crash" {
		t.Fatalf("the interrupted call's record: %+v, want ended with a reason and the notes", rec)
	}
	if err := st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE", Next: "paused", Reason: "Break"}); err != nil {
		t.Fatal(err)
	}

	// The nailed-up leg comes back: a new INVITE, answered.
	leg := r.phone.NextCall(60 * time.Second)
	leg.WaitAnswered(15 * time.Second)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s, _ := st.Engine.Snapshot(ctx, alice)
		if s.Phone.Connected && (s.State.State == cti.AgentPaused || s.State.State == cti.AgentReady) {
			break
		}
		if time.Now().After(deadline) {
			var evs []string
			for _, e := range r.w.Log {
				evs = append(evs, e.Type+" "+string(e.Data))
			}
			t.Fatalf("alice's phone answered the re-dial but she is %+v, phone %+v; her events:\n%s", s.State, s.Phone, strings.Join(evs, "\n"))
		}
	}
	if n := r.phone.Invites(); n != 2 {
		t.Fatalf("alice's phone received %d INVITEs, want the first leg's and one re-dial", n)
	}
	if s, _ := st.Engine.Snapshot(ctx, alice); s.State.State != cti.AgentReady {
		if err := st.Engine.SetReady(ctx, alice); err != nil {
			t.Fatal(err)
		}
	}
	r.leg = leg
	_, info2 := r.inbound(t, "+447700900456")
	if err := st.Engine.Hangup(ctx, alice); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentOnWrap, 15*time.Second)
	if err := st.Engine.Wrap(ctx, alice, cti.WrapRequest{Code: "DONE", Next: "paused", Reason: "Break"}); err != nil {
		t.Fatal(err)
	}
	st.Engine.Flush(ctx)
	var rows []struct{ ID, State string }
	st.DB.Raw(`SELECT id, state FROM interactions ORDER BY created_at`).Scan(&rows)
	if len(rows) != 2 || rows[0].ID != info.InteractionID || rows[0].State != "wrapped" || rows[1].ID != info2.InteractionID || rows[1].State != "wrapped" {
		t.Fatalf("records: %+v, want the interrupted call and the next one, both wrapped", rows)
	}
}

// TestAsteriskCtidKilledMidCallAndRestarted runs the ctid binary (built
// from ./cmd/ctid) on the test's database and a real Asterisk, and drives
// it over its HTTP API as the adaptor would. Alice (persistent leg to her
// registered phone) takes a recorded call and writes notes; ctid is
// SIGKILLed. While it is down, she and the customer go on hearing each
// other. A new ctid on the same database and Asterisk re-adopts the call
// (her snapshot shows it, her token still works, her phone gets no new
// INVITE), hangs it up at her request (the customer gets a BYE), and she
// wraps it: one interaction row, connected, ended and wrapped, with the
// notes, and its recording finished.
func TestAsteriskCtidKilledMidCallAndRestarted(t *testing.T) {
	ast := aritest.StartAsterisk(t)
	dsn := pgtest.DSN(t)
	db, err := postgres.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	const password = "correct horse battery"
	acc, err := postgres.NewAdmin(db).CreateUser(context.Background(), postgres.NewUser{Username: "alice", Password: password,
		DisplayName: "Alice", DefaultPhone: "1001", RecordingControl: true})
	if err != nil {
		t.Fatal(err)
	}
	ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Real", DID: incallDID, Platform: incallPlatform, Agents: []int64{acc.ID},
		Codes: []string{"DONE"}, Recording: true})
	phone := sipphone.NewPhone(t, ast, "1001", sipphone.WithTone(hzAgent))
	carrier := sipphone.NewCarrier(t, ast)

	p := newCtidProc(t, buildCtid(t), dsn, ast)
	p.start()
	tok := p.login("alice", password)
	p.must(200, "POST", "/api/v1/agent/login", tok, "")
	p.must(200, "POST", "/api/v1/agent/connect", tok, `{"mode":"system_calls","number":"1001","persistent":true}`)
	leg := phone.NextCall(20 * time.Second)
	leg.WaitAnswered(15 * time.Second)
	p.waitAgent(tok, "paused", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentPaused })
	p.must(200, "POST", "/api/v1/agent/ready", tok, "{}")
	p.waitAgent(tok, "ready", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentReady })

	cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cust, err := carrier.Call(cctx, incallDID, "+447700900123")
	if err != nil {
		t.Fatal(err)
	}
	cust.Play(hzCustomer)
	s := p.waitAgent(tok, "on a recorded call", func(s cti.AgentSnapshot) bool {
		return s.State.State == cti.AgentOnCall && s.Call != nil && s.Recording != nil && s.Recording.State == "recording"
	})
	iid := s.Call.InteractionID
	hearEachOther(t, leg, hzAgent, cust, hzCustomer)
	p.must(204, "PUT", "/api/v1/agent/calls/"+iid+"/notes", tok, `{"notes":"written before the crash"}`)
	// ctid's record writer is asynchronous: what it had not yet written
	// when killed is lost (by design; restore rebuilds from what is in
	// Postgres). Kill it once the notes and the connect are stored.
	ctitest.Eventually(t, 15*time.Second, "notes stored", func() bool {
		var n int64
		db.Raw(`SELECT count(*) FROM interactions WHERE id = ? AND notes <> '' AND connected_at IS NOT NULL`, iid).Scan(&n)
		return n == 1
	})

	p.kill()
	// ctid is gone; the call is Asterisk's and carries on.
	talksFor(t, leg, 3*time.Second, []float64{hzCustomer}, hzAgent)
	talksFor(t, cust, 2*time.Second, []float64{hzAgent}, hzCustomer)

	p.start()
	s = p.waitAgent(tok, "the call re-adopted", func(s cti.AgentSnapshot) bool {
		return s.State.State == cti.AgentOnCall && s.Call != nil && s.Phone.Connected
	})
	if s.Call.InteractionID != iid || s.Call.CustomerNumber != "+447700900123" {
		t.Fatalf("after the restart alice's call is %+v, want %s", s.Call, iid)
	}
	talksFor(t, leg, 2*time.Second, []float64{hzCustomer}, hzAgent)
	p.must(200, "POST", "/api/v1/agent/hangup", tok, "")
	gotBye(t, cust)
	p.waitAgent(tok, "wrapping", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentOnWrap })
	// The recording the first ctid started ends with the customer; the
	// new ctid must know it to finish its row (restore re-adopts it). The
	// wrap waits for that: a wrap before RecordingFinished arrives loses
	// it (TestAsteriskRecordingStopsWhenWrappedAtOnce).
	var rec struct {
		Name, State string
		DurationMs  int64
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		db.Raw(`SELECT name, state, duration_ms FROM recordings WHERE interaction_id = ?`, iid).Scan(&rec)
		if rec.State == "stopped" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the recording never finished: %+v", rec)
		}
	}
	if rec.DurationMs < 5000 {
		t.Fatalf("recording %+v: it should span the call, ctid's downtime included", rec)
	}
	p.must(200, "POST", "/api/v1/agent/wrap", tok, `{"code":"DONE","next":"paused","reason":"Break"}`)
	p.waitAgent(tok, "paused", func(s cti.AgentSnapshot) bool { return s.State.State == cti.AgentPaused })
	select {
	case <-leg.Ended():
		t.Fatalf("alice's nailed-up leg ended: %s", leg.EndReason())
	default:
	}
	if n := phone.Invites(); n != 1 {
		t.Fatalf("alice's phone received %d INVITEs; the new ctid should have kept the leg it found", n)
	}

	// The record, as the new ctid left it (its writer is flushed by the
	// time a later read sees the wrap).
	type row struct {
		State, Notes, WrapCode string
		ConnectedAt, EndedAt   *time.Time
		WrappedAt              *time.Time
	}
	var rows []row
	ctitest.Eventually(t, 15*time.Second, "the record wrapped", func() bool {
		rows = nil
		db.Raw(`SELECT state, notes, wrap_code, connected_at, ended_at, wrapped_at FROM interactions`).Scan(&rows)
		return len(rows) == 1 && rows[0].State == "wrapped"
	})
	if r := rows[0]; r.Notes != "written before the crash" || r.WrapCode != "DONE" || r.ConnectedAt == nil || r.EndedAt == nil || r.WrappedAt == nil {
		t.Fatalf("the record: %+v", r)
	}
	t.Logf("record %+v; recording %+v", rows[0], rec)
}

// buildCtid builds ./cmd/ctid into a temporary directory.
func buildCtid(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ctid")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "../cmd/ctid")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/ctid: %v\n%s", err, out)
	}
	return bin
}

// ctidProc is the ctid binary on a free loopback port, started and
// SIGKILLed by the test; its output is kept for the log of a failure.
type ctidProc struct {
	t    *testing.T
	bin  string
	env  []string
	base string

	mu   sync.Mutex
	out  bytes.Buffer
	cmd  *exec.Cmd
	done chan struct{}
}

func newCtidProc(t *testing.T, bin, dsn string, ast *aritest.Asterisk) *ctidProc {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := &ctidProc{t: t, bin: bin, base: "http://" + addr, env: []string{
		"CTID_DSN=" + dsn, "CTID_LISTEN=" + addr, "CTID_ARI_URL=" + ast.URL(), "CTID_ARI_USER=" + ast.User,
		"CTID_ARI_PASSWORD=" + ast.Password, "CTID_ARI_APP=" + ast.App, "CTID_LOG_FORMAT=text", "CTID_LOG_LEVEL=info",
		"CTID_OFFER_TIMEOUT=15s", "CTID_DATA_DIR=" + t.TempDir(), "HOME=" + t.TempDir(), "PATH=/usr/bin:/bin",
	}}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			p.mu.Lock()
			t.Logf("--- ctid output ---\n%s", p.out.String())
			p.mu.Unlock()
		}
	})
	return p
}

func (p *ctidProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// start runs ctid and waits until /readyz says the database and ARI are up.
func (p *ctidProc) start() {
	p.t.Helper()
	fmt.Fprintf(p, "--- start at %s ---\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(p.bin, "serve")
	cmd.Env, cmd.Stdout, cmd.Stderr = p.env, p, p
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			p.t.Fatalf("ctid exited while starting: %v", cmd.ProcessState)
		default:
		}
		if code, _ := p.do("GET", "/readyz", "", ""); code == 200 {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatal("ctid not ready within 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill SIGKILLs ctid: nothing is flushed or closed.
func (p *ctidProc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	fmt.Fprintf(p, "--- SIGKILL at %s ---\n", time.Now().Format(time.RFC3339Nano))
	cmd.Process.Kill()
	<-done
}

func (p *ctidProc) do(method, path, tok, body string) (int, []byte) {
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (p *ctidProc) must(code int, method, path, tok, body string) []byte {
	p.t.Helper()
	got, b := p.do(method, path, tok, body)
	if got != code {
		p.t.Fatalf("%s %s: %d %s, want %d", method, path, got, b, code)
	}
	return b
}

func (p *ctidProc) login(user, password string) string {
	p.t.Helper()
	var lr struct{ Token string }
	b := p.must(200, "POST", "/api/v1/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, password))
	if err := json.Unmarshal(b, &lr); err != nil || lr.Token == "" {
		p.t.Fatalf("login: %s", b)
	}
	return lr.Token
}

// waitAgent polls GET /api/v1/agent until cond holds.
func (p *ctidProc) waitAgent(tok, what string, cond func(cti.AgentSnapshot) bool) cti.AgentSnapshot {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last []byte
	for {
		code, b := p.do("GET", "/api/v1/agent", tok, "")
		var s cti.AgentSnapshot
		if code == 200 && json.Unmarshal(b, &s) == nil && cond(s) {
			return s
		}
		last = b
		if time.Now().After(deadline) {
			p.t.Fatalf("alice not %s within 30 s: %d %s", what, code, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
