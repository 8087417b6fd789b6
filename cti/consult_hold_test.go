package cti_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// TestSecondConsultHoldsTheCustomer is the privacy regression of issue 15
// item 9: after consult → cancel → consult again, the customer must be on
// hold (away from the talk bridge) on the second consult too. The double,
// like Asterisk 22, refuses to re-create a bridge id that once held a
// channel, so a hold bridge id reused per interaction fails here.
func TestSecondConsultHoldsTheCustomer(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	talk := bridgeOf(f, cust)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	var holds []string
	for round := 1; round <= 3; round++ {
		v, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+442079460001", Mode: "consult"})
		if err != nil {
			t.Fatalf("consult %d: %v", round, err)
		}
		ctitest.Eventually(t, 10*time.Second, "consulting", func() bool {
			s, _ := f.Engine.Snapshot(bg, f.alice)
			return s.Transfer != nil && s.Transfer.State == cti.XferConsulting
		})
		hb := bridgeOf(f, cust)
		if !strings.HasPrefix(hb, "hold-") {
			t.Fatalf("consult %d: the customer is in %q, not on hold (talk bridge %q)", round, hb, talk)
		}
		if b, _ := f.Double.Bridge(hb); len(b.Channels) != 1 {
			t.Fatalf("consult %d: hold bridge %+v should hold the customer alone", round, b)
		}
		if bridgeOf(f, "xf-"+v.ID) != talk {
			t.Fatalf("consult %d: destination in %q, want the talk bridge %q", round, bridgeOf(f, "xf-"+v.ID), talk)
		}
		for _, prev := range holds {
			if prev == hb {
				t.Fatalf("consult %d reused hold bridge %q", round, hb)
			}
		}
		holds = append(holds, hb)
		if _, err := f.Engine.TransferAction(bg, f.alice, "cancel"); err != nil {
			t.Fatal(err)
		}
		ctitest.Eventually(t, 10*time.Second, "customer back with the agent", func() bool { return bridgeOf(f, cust) == talk })
		ctitest.Eventually(t, 10*time.Second, "hold bridge destroyed", func() bool { _, ok := f.Double.Bridge(hb); return !ok })
	}
}

// TestConsultRefusedWhenTheCustomerCannotBeHeld: if Asterisk will not take
// the customer into a hold bridge, nobody is called and the customer stays
// with the agent; the agent is told why.
func TestConsultRefusedWhenTheCustomerCannotBeHeld(t *testing.T) {
	f := setup(t, ctitest.CampaignSpec{}, ctitest.Options{})
	w := f.WatchAgent(t, f.alice)
	cust, _ := f.inCall(t, w)
	talk := bridgeOf(f, cust)
	f.Double.Script("PJSIP/+4420*@trunk", aritest.Behavior{AnswerAfter: 20 * time.Millisecond})
	// Asterisk refuses the hold bridge, then (next try) the customer's move into it.
	for _, part := range []string{"/bridges", "/addChannel"} {
		f.Double.FailNext("POST", part, 500)
		_, err := f.Engine.Transfer(bg, f.alice, cti.TransferRequest{Type: "number", Target: "+442079460001", Mode: "consult"})
		if cti.KindOf(err) != cti.KindUnavailable || !strings.Contains(err.Error(), "on hold") {
			t.Fatalf("consult without a hold (%s refused): %v", part, err)
		}
		if b := bridgeOf(f, cust); b != talk {
			t.Fatalf("customer moved to %q", b)
		}
	}
	s, _ := f.Engine.Snapshot(bg, f.alice)
	if s.Transfer != nil || s.State.State != cti.AgentOnCall {
		t.Fatalf("after a refused consult: %+v", s)
	}
	for _, ch := range f.Double.Channels() {
		if strings.HasPrefix(ch.ID, "xf-") {
			t.Fatalf("a destination was called: %+v", ch)
		}
	}
}
