package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti/ctitest"
)

// TestAsteriskRequestCallbackOverHTTP runs asterisk-conf's
// [workflows] request-callback-http end to end on a real Asterisk: the
// caller presses 1, the dialplan's CURL() (func_curl) posts to ctid's
// /api/v1/dialplan/callback with the shared secret, ctid books a queue
// callback on the campaign of the DID the call came in on, at the time the
// workflow asked for. The caller is a Local channel whose dialplan
// half runs the workflow; its other half is held by a probe application.
func TestAsteriskRequestCallbackOverHTTP(t *testing.T) {
	const secret = "dialplan-s3cret-for-asterisk"
	e := newEnv(t, envOptions{tune: withDialer(secret)})
	root := e.login("root")
	camp := e.outbound(root, "Callbacks", `,"dids":["+441234500001"]`)
	ast := aritest.StartAsterisk(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	probe, err := ari.New(ari.Config{URL: ast.URL(), Username: ast.User, Password: ast.Password, App: "probe"})
	if err != nil {
		t.Fatal(err)
	}
	go probe.Run(ctx)
	ctitest.Eventually(t, 10*time.Second, "probe connected", probe.Connected)
	// The dialplan reaches ctid where this test's server listens.
	for k, v := range map[string]string{"CTI_HTTP": e.base, "CTI_DIALPLAN_SECRET": secret} {
		if err := probe.Asterisk.SetVar(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	due := dueAt(t, time.Now()).Format(time.RFC3339)
	if _, err := probe.Channels.Originate(ctx, ari.OriginateRequest{Endpoint: "Local/request-callback-http@workflows",
		App: "probe", ChannelID: "cb1", OtherChannelID: "cb1-2", CallerID: "+447400123456",
		Variables: map[string]string{"CTI_IVR_DATA": "did=441234500001&ani=%2B447400123456", "CTI_CB_WHEN": due}}); err != nil {
		t.Fatal(err)
	}
	// Key "1" once Read() is asking (it would drop a digit sent earlier).
	ctitest.Eventually(t, 20*time.Second, "the workflow's Read() prompt", func() bool {
		out, _ := ast.CLI("core show channels concise")
		return strings.Contains(out, "!Read!")
	})
	if err := probe.Channels.SendDTMF(ctx, "cb1", ari.DTMFOptions{Digits: "1", Duration: 200}); err != nil {
		t.Fatal(err)
	}
	var row struct {
		CampaignID int64
		Number     string
		Status     string
		DueAt      time.Time
		AgentID    *int64
	}
	ctitest.Eventually(t, 20*time.Second, "a callback row", func() bool {
		e.DB.Raw(`SELECT campaign_id, number, status, due_at, agent_id FROM dialer_callbacks ORDER BY id DESC LIMIT 1`).Scan(&row)
		return row.Number != ""
	})
	if row.CampaignID != camp || row.Number != "+447400123456" || row.Status != "pending" || row.AgentID != nil ||
		row.DueAt.UTC().Format(time.RFC3339) != due {
		t.Fatalf("callback booked by the dialplan: %+v (want campaign %d, due %s)", row, camp, due)
	}
}
