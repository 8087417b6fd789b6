package cti_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// TestAsteriskSIPPayment: the customer calls through the trunk, talks and
// keys the card as RFC 4733 events on the carrier call. The engine
// captures the card and the gateway approves; alice's phone receives no
// digit at all and, for the whole capture, hears silence (the customer is
// muted towards everyone, the recording paused); after she leaves the
// payment screen her phone hears the customer again.
func TestAsteriskSIPPayment(t *testing.T) {
	r := newInCallRig(t, ctitest.CampaignSpec{Recording: true, Payment: `{"kind":"sandbox","currency":"GBP"}`}, nil)
	st, alice := r.st, r.alice
	ctx := context.Background()
	cust, _ := r.inbound(t, "+447700900123")
	ctitest.Eventually(t, 15*time.Second, "recorder started", func() bool {
		s, _ := st.Engine.Snapshot(ctx, alice)
		return s.Recording != nil && s.Recording.State == "recording"
	})

	if _, err := st.Engine.StartPayment(ctx, alice); err != nil {
		t.Fatal(err)
	}
	r.w.Next("payment.started", 10*time.Second)
	r.leg.WaitSilence(10 * time.Second)
	from := time.Now()
	if s, _ := st.Engine.Snapshot(ctx, alice); s.Recording == nil || s.Recording.State != "paused" {
		t.Fatalf("recording during capture: %+v, want paused", s.Recording)
	}
	if err := cust.SendDigits("4242424242424242#123"); err != nil { // the customer keeps talking between keys
		t.Fatal(err)
	}
	ctitest.Eventually(t, 15*time.Second, "card and CVV captured", func() bool {
		s, _ := st.Engine.Snapshot(ctx, alice)
		return s.Payment != nil && s.Payment.Progress.CVVValid
	})
	to := time.Now()
	s, _ := st.Engine.Snapshot(ctx, alice)
	if s.Payment.Progress.CardLast4 != "4242" {
		t.Fatalf("progress %+v", s.Payment.Progress)
	}
	// Every second of the capture, as alice's phone heard it.
	for at := from; at.Add(time.Second).Before(to); at = at.Add(time.Second) {
		if l := r.leg.Window(at, at.Add(time.Second)); !l.Silent() {
			t.Errorf("alice's phone heard something during capture at +%v: %v", at.Sub(from).Round(time.Second), l)
		}
	}
	// (Asterisk 22 sends the phone no RTP at all while the only other
	// party is muted: silence to a person, and no packet to leak through.)
	t.Logf("alice's phone over the %v of capture: %v", to.Sub(from).Round(100*time.Millisecond), r.leg.Window(from, to))

	if _, err := st.Engine.MakePayment(ctx, alice, cti.PaymentDetails{Reference: "R1", Expiry: "12/39", CardholderName: "C", Amount: "1.00"}); err != nil {
		t.Fatal(err)
	}
	res := decode[cti.PaymentView](t, r.w.Next("payment.result", 15*time.Second))
	if res.Result == nil || !res.Result.Approved {
		t.Fatalf("result %+v", res)
	}
	if err := st.Engine.ExitPayment(ctx, alice); err != nil {
		t.Fatal(err)
	}
	r.w.Next("payment.ended", 10*time.Second)
	hearEachOther(t, r.leg, hzAgent, cust, hzCustomer)
	// Outside a capture too, customers' keys are absorbed by the bridge.
	if err := cust.SendDigits("5"); err != nil {
		t.Fatal(err)
	}
	talksFor(t, r.leg, 2*time.Second, []float64{hzCustomer})
	if d := r.leg.Digits(); d != "" {
		t.Fatalf("alice's phone received %d DTMF digits", len(d))
	}
	if s, _ := st.Engine.Snapshot(ctx, alice); s.Recording == nil || s.Recording.State != "recording" {
		t.Fatalf("recording after the payment: %+v, want recording again", s.Recording)
	}
}

// TestAsteriskAnnouncement: alice plays the campaign's announcement
// (sound:tt-monkeys) into the call. PlayAnnouncement plays it to the talk
// bridge, by design heard by the customer and the agent alike: both
// phones hear broadband sound while neither talks; a second play is
// refused while it plays; stopped, both hear silence, and then each other.
func TestAsteriskAnnouncement(t *testing.T) {
	r := newInCallRig(t, ctitest.CampaignSpec{}, func(db *gorm.DB, camp int64) {
		if err := db.Exec(`INSERT INTO announcements(campaign_id, name, media) VALUES (?, 'Monkeys', 'sound:tt-monkeys')`, camp).Error; err != nil {
			t.Fatal(err)
		}
	})
	st, alice := r.st, r.alice
	ctx := context.Background()
	cust, _ := r.inbound(t, "+447700900123")
	s, _ := st.Engine.Snapshot(ctx, alice)
	if len(s.Announcements) != 1 || s.Announcements[0].Name != "Monkeys" {
		t.Fatalf("announcements offered to alice: %+v", s.Announcements)
	}
	ann := s.Announcements[0]
	// Both stop talking, so what they hear is the announcement alone.
	r.leg.Silence()
	cust.Silence()
	cust.WaitSilence(10 * time.Second)
	r.leg.WaitSilence(10 * time.Second)

	if err := st.Engine.PlayAnnouncement(ctx, alice, ann.ID); err != nil {
		t.Fatal(err)
	}
	r.w.Next("announcement.started", 10*time.Second)
	t.Logf("the customer hears %v", cust.WaitBroadband(15*time.Second))
	t.Logf("alice hears %v", r.leg.WaitBroadband(15*time.Second))
	for i, l := range cust.Listen(2 * time.Second) {
		if !l.Broadband() {
			t.Errorf("the customer at +%ds of the announcement: %v", i, l)
		}
	}
	if err := st.Engine.PlayAnnouncement(ctx, alice, ann.ID); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("a second play while one plays: %v, want a conflict", err)
	}
	if err := st.Engine.StopAnnouncement(ctx, alice); err != nil {
		t.Fatal(err)
	}
	r.w.Next("announcement.finished", 10*time.Second)
	cust.WaitSilence(10 * time.Second)
	r.leg.WaitSilence(10 * time.Second)
	r.leg.Play(hzAgent)
	cust.Play(hzCustomer)
	hearEachOther(t, r.leg, hzAgent, cust, hzCustomer)
	if err := cust.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	r.w.Next("wrap.started", 10*time.Second)
}
