package postgres_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/postgres"
)

// TestPhonesBoundToPeople: with the engine's PhoneDirectory on the phones
// table, an agent connects only the phone assigned to them (another's is
// 403, an unassigned or disabled one too), their own phone when they name
// none, an outside number only when their profile allows it; the call to
// 8000 is matched by the authenticated endpoint, not the caller-id.
func TestPhonesBoundToPeople(t *testing.T) {
	ctx := context.Background()
	var adm *postgres.Admin
	var alice, bob int64
	st := ctitest.StartSeeded(t, ctitest.Options{Tune: func(o *cti.Options) { o.Phones = adm }}, func(db *gorm.DB) {
		adm = postgres.NewAdmin(db)
		alice = ctitest.Agent(t, db, "alice", "")
		bob = ctitest.Agent(t, db, "bob", "+442079460111")
		ctitest.Campaign(t, db, ctitest.CampaignSpec{DID: "+441234567890", Agents: []int64{alice, bob}, Codes: []string{"DONE"}})
	})
	ext := func(s string) *string { return &s }
	mine, _, err := adm.CreatePhone(ctx, postgres.PhoneInput{Extension: ext("2001"), UserID: &alice})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := adm.CreatePhone(ctx, postgres.PhoneInput{Extension: ext("2009")}); err != nil {
		t.Fatal(err)
	}
	st.Engine.Login(ctx, alice)
	st.Engine.Login(ctx, bob)

	// bob may not connect alice's phone, nor an unassigned one.
	for _, n := range []string{"2001", "2009"} {
		err := st.Engine.Connect(ctx, bob, cti.ConnectRequest{Mode: cti.PhoneAgentCalls, Number: n})
		if cti.KindOf(err) != cti.KindForbidden {
			t.Fatalf("bob connects %s: %v, want forbidden", n, err)
		}
	}
	// Outside numbers: allowed by default, refused once the profile says so.
	if err := adm.SetOutsidePhones(ctx, bob, false); err != nil {
		t.Fatal(err)
	}
	if err := st.Engine.Connect(ctx, bob, cti.ConnectRequest{Mode: cti.PhoneSystemCalls}); cti.KindOf(err) != cti.KindForbidden {
		t.Fatalf("bob's default outside number with outside numbers off: %v", err)
	}
	if err := adm.SetOutsidePhones(ctx, bob, true); err != nil {
		t.Fatal(err)
	}
	if err := st.Engine.Connect(ctx, bob, cti.ConnectRequest{Mode: cti.PhoneSystemCalls}); err != nil {
		t.Fatalf("bob's outside number allowed: %v", err)
	}

	// alice names no phone: her assigned one (2001) is used.
	if err := st.Engine.Connect(ctx, alice, cti.ConnectRequest{Mode: cti.PhoneAgentCalls}); err != nil {
		t.Fatal(err)
	}
	st.WaitState(t, alice, cti.AgentConnecting, 10*time.Second)
	// Endpoint 2009 presenting caller-id 2001 is not alice's phone.
	spoof, _ := st.Double.InboundCall(aritest.Call{App: "ctid", Args: []string{"agentlogin", "2001"}, From: "2001", To: "8000", Endpoint: "2009"})
	ctitest.Eventually(t, 10*time.Second, "spoofed call hung up", func() bool { _, ok := st.Double.Channel(spoof); return !ok })
	if snap := st.WaitState(t, alice, cti.AgentConnecting, time.Second); snap.Phone.Connected {
		t.Fatal("a spoofed caller-id connected alice")
	}
	st.Double.InboundCall(aritest.Call{App: "ctid", Args: []string{"agentlogin", "x"}, From: "anything", To: "8000",
		Endpoint: "2001", Vars: map[string]string{"CTI_ENDPOINT": "2001"}})
	if snap := st.WaitState(t, alice, cti.AgentPaused, 10*time.Second); !snap.Phone.Connected || snap.Phone.Number != "2001" {
		t.Fatalf("alice's phone %+v", snap.Phone)
	}

	// A disabled phone cannot be connected.
	yes := true
	if _, err := adm.UpdatePhone(ctx, mine.ID, postgres.PhoneInput{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.PhoneFor(ctx, alice, "2001"); cti.KindOf(err) != cti.KindForbidden {
		t.Fatalf("disabled phone: %v", err)
	}
}
