package cti_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

type outcomes struct {
	mu  sync.Mutex
	all []cti.AttemptOutcome
}

func (o *outcomes) add(x cti.AttemptOutcome) { o.mu.Lock(); o.all = append(o.all, x); o.mu.Unlock() }
func (o *outcomes) results() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var s []string
	for _, x := range o.all {
		s = append(s, x.AttemptID+":"+x.Result)
	}
	return strings.Join(s, " ")
}

// On the fake clock: nobody answers the preview, so it auto-dials the first
// number exactly at its deadline (not a millisecond before); a wrong number
// tried meanwhile is refused without touching the offer.
func TestPreviewAutoDialsFirstNumberAndReportsOutcome(t *testing.T) {
	const timeout = 20 * time.Second
	var got outcomes
	f, fc := fakeSetup(t, ctitest.CampaignSpec{Kind: "outbound"}, ctitest.Options{Tune: func(o *cti.Options) { o.Outcome = got.add }})
	w := f.WatchAgent(t, f.alice)
	f.loginAnswering(t, f.alice, "1001")
	f.Engine.SetReady(bg, f.alice)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{}) // answers at once
	lead := cti.Lead{ID: 7, Name: "Pat Lead", Phones: []string{"+442079460101", "+442079460102", "+442079460103"},
		Data: map[string]string{"plan": "gold"}}
	if err := f.Engine.OfferPreview(bg, f.alice, f.camp, lead, "A1", timeout); err != nil {
		t.Fatal(err)
	}
	offeredAt := fc.Now()
	pv := decode[cti.PreviewView](t, w.Next("preview.offered", 15*time.Second))
	if len(pv.Lead.Phones) != 3 || pv.Deadline == nil || !pv.Deadline.Equal(offeredAt.Add(timeout)) {
		t.Fatalf("preview %+v, want deadline %v", pv, offeredAt.Add(timeout))
	}
	if _, err := f.Engine.PreviewDial(bg, f.alice, "+449999999999"); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("dial a number not on the lead: %v", err)
	}
	fc.Advance(timeout - time.Millisecond)
	if s, _ := f.Engine.Snapshot(bg, f.alice); s.Call != nil || s.State.State != cti.AgentReserved {
		t.Fatalf("a millisecond before the preview deadline: %s, call %+v; want the offer still open", s.State.State, s.Call)
	}
	fc.Advance(time.Millisecond)
	w.Next("preview.autodial", 15*time.Second)
	info := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	if info.CustomerNumber != "+442079460101" || info.Lead == nil || info.Lead.Data["plan"] != "gold" {
		t.Fatalf("auto-dialled call %+v", info)
	}
	f.Engine.Hangup(bg, f.alice)
	f.WaitState(t, f.alice, cti.AgentOnWrap, 15*time.Second)
	ctitest.Eventually(t, 15*time.Second, "outcome", func() bool { return got.results() == "A1:answered" })
}

func TestPreviewSkip(t *testing.T) {
	var got outcomes
	f := setup(t, ctitest.CampaignSpec{Kind: "outbound"}, ctitest.Options{Tune: func(o *cti.Options) { o.Outcome = got.add }})
	f.loginPersistent(t, f.alice, "1001")
	f.Engine.SetReady(bg, f.alice)
	f.Engine.OfferPreview(bg, f.alice, f.camp, cti.Lead{ID: 1, Phones: []string{"+442079460101"}}, "A2", time.Minute)
	if err := f.Engine.PreviewSkip(bg, f.alice, ""); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("skip without reason: %v", err)
	}
	if err := f.Engine.PreviewSkip(bg, f.alice, "wrong person"); err != nil {
		t.Fatal(err)
	}
	f.WaitState(t, f.alice, cti.AgentReady, 15*time.Second)
	ctitest.Eventually(t, 15*time.Second, "outcome", func() bool { return got.results() == "A2:skipped" })
}

func TestPredictiveBeepsAgentAndAbandonsWhenNoneFree(t *testing.T) {
	var got outcomes
	f := setup(t, ctitest.CampaignSpec{Kind: "outbound"}, ctitest.Options{Tune: func(o *cti.Options) { o.Outcome = got.add }})
	f.loginPersistent(t, f.alice, "1001")
	f.Engine.SetReady(bg, f.alice)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	f.Double.Script("PJSIP/+44161*@trunk", aritest.Behavior{Busy: true, RingFor: 10 * time.Millisecond})
	w := f.WatchAgent(t, f.alice)
	dial := func(id, num string) {
		if err := f.Engine.DialPredictive(bg, cti.PredictiveCall{AttemptID: id, CampaignID: f.camp, Number: num,
			Lead: cti.Lead{ID: 1, Phones: []string{num}}, AbandonMessage: "sound:sorry-all-busy"}); err != nil {
			t.Fatal(err)
		}
	}
	dial("P1", "+442079460201")
	info := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	if info.CustomerNumber != "+442079460201" {
		t.Fatalf("connected %+v", info)
	}
	// The agent heard one beep: a playback on the agent's leg only, none to
	// the bridge (the contact does not hear it).
	ctitest.Eventually(t, 15*time.Second, "beep", func() bool {
		for _, ch := range f.Double.Channels() {
			if len(ch.Args) > 0 && ch.Args[0] == "agentleg" {
				return strings.Join(f.Double.Played(ch.ID), ",") == "sound:beep"
			}
		}
		return false
	})
	if p := f.Double.Played("agent-" + itoa(f.alice)); len(p) != 0 {
		t.Fatalf("played to the whole bridge: %v", p)
	}
	// Alice is busy now: the next answered contact has nobody and is abandoned.
	dial("P2", "+442079460202")
	dial("P3", "+441614960203") // busy
	ctitest.Eventually(t, 5*time.Second, "outcomes", func() bool {
		r := got.results()
		return strings.Contains(r, "P2:abandoned") && strings.Contains(r, "P3:busy") && strings.Contains(r, "P1:answered")
	})
	ctitest.Eventually(t, 15*time.Second, "abandon message", func() bool {
		return strings.Join(f.Double.Played("pd-P2"), ",") == "sound:sorry-all-busy"
	})
}
