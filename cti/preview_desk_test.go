package cti_test

import (
	"testing"
	"time"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// Issue 15 preview: numbers carry their labels, a due callback says so
// (kind "callback"), pausing during a preview hands the lead back
// ("returned", preview.withdrawn) and pauses with the chosen reason, and a
// skip passes the agent's reason to the dialler (Do not call).
func TestPreviewLabelsPauseReturnsLeadAndSkipReason(t *testing.T) {
	var got outcomes
	f := setup(t, ctitest.CampaignSpec{Kind: "outbound"}, ctitest.Options{Tune: func(o *cti.Options) { o.Outcome = got.add }})
	w := f.WatchAgent(t, f.alice)
	f.loginPersistent(t, f.alice, "1001")
	f.Engine.SetReady(bg, f.alice)
	lead := cti.Lead{ID: 7, Name: "Pat", Phones: []string{"+447400123001", "+442079460102"},
		PhoneLabels: map[string]string{"+447400123001": "mobile", "+442079460102": "work"}}
	if err := f.Engine.OfferPreview(bg, f.alice, f.camp, lead, "A1", 0); err != nil {
		t.Fatal(err)
	}
	pv := decode[cti.PreviewView](t, w.Next("preview.offered", 15*time.Second))
	if pv.Kind != "lead" || len(pv.Numbers) != 2 || pv.Numbers[0] != (cti.PreviewNumber{Number: "+447400123001", Label: "mobile"}) ||
		pv.Numbers[1].Label != "work" {
		t.Fatalf("preview %+v", pv)
	}
	if err := f.Engine.SetPaused(bg, f.alice, "Break"); err != nil {
		t.Fatal(err)
	}
	w.Next("preview.withdrawn", 15*time.Second)
	s := f.WaitState(t, f.alice, cti.AgentPaused, 15*time.Second)
	if s.State.PauseReason != "Break" || s.Preview != nil {
		t.Fatalf("after pause: %+v preview %+v", s.State, s.Preview)
	}
	ctitest.Eventually(t, 15*time.Second, "lead returned", func() bool { return got.results() == "A1:returned" })

	f.Engine.SetReady(bg, f.alice)
	cb := cti.Lead{Phones: []string{"+447400123009"}, Data: map[string]string{"callbackId": "5"}}
	if err := f.Engine.OfferPreview(bg, f.alice, f.camp, cb, "cb-5-0", 0); err != nil {
		t.Fatal(err)
	}
	if pv := decode[cti.PreviewView](t, w.Next("preview.offered", 15*time.Second)); pv.Kind != "callback" || pv.Numbers[0].Label != "other" {
		t.Fatalf("callback preview %+v", pv)
	}
	if err := f.Engine.PreviewSkip(bg, f.alice, "Do not call"); err != nil {
		t.Fatal(err)
	}
	ctitest.Eventually(t, 15*time.Second, "skip reported with its reason", func() bool {
		got.mu.Lock()
		defer got.mu.Unlock()
		return len(got.all) == 2 && got.all[1].Result == "skipped" && got.all[1].Reason == "Do not call"
	})
	f.WaitState(t, f.alice, cti.AgentReady, 15*time.Second)
}

// Item 7: a call that is not recorded shows "off", not the paused icon,
// and says so in words.
func TestRecordingOffIsNotPaused(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{}) // Recording false
	w := f.WatchAgent(t, f.alice)
	f.inCall(t, w)
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if s.Recording == nil || s.Recording.State != "off" || s.Recording.Icon != "off" || s.Recording.Label != "Not recording" {
		t.Fatalf("recording view of an unrecorded call: %+v", s.Recording)
	}
}
