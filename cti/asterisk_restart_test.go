package cti_test

import (
	"context"
	"testing"
	"time"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
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
	ctitest.Eventually(t, 30*time.Second, "alice's phone connected again", func() bool {
		s, _ := st.Engine.Snapshot(ctx, alice)
		return s.Phone.Connected && (s.State.State == cti.AgentPaused || s.State.State == cti.AgentReady)
	})
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
