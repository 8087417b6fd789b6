package dialer_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/dialer"
	"github.com/ctid/ctid/dialer/pacing"
)

// TestPredictiveCampaignThroughEngine runs the worker against the whole CTI
// core with the ARI double: a predictive campaign with two persistent
// agents over-dials three answering contacts (a fixed 1.5 dial level); two
// reach an agent who hears a beep, the third has no agent within 2 s,
// hears the campaign's abandon message and is counted as abandoned.
func TestPredictiveCampaignThroughEngine(t *testing.T) {
	bg := context.Background()
	var worker atomic.Pointer[dialer.Worker]
	var camp, alice, bob int64
	leads := map[int64]string{}
	f := ctitest.StartSeeded(t, ctitest.Options{Tune: func(o *cti.Options) {
		o.Outcome = func(x cti.AttemptOutcome) {
			if w := worker.Load(); w != nil {
				w.Outcome(x)
			}
		}
	}}, func(db *gorm.DB) {
		alice = ctitest.Agent(t, db, "alice", "1001")
		bob = ctitest.Agent(t, db, "bob", "1002")
		camp = ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Outbound", Kind: "outbound", Platform: "+441632960000",
			Agents: []int64{alice, bob}, Codes: []string{"SALE"}})
		exec := func(sql string, args ...any) {
			if err := db.Exec(sql, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		exec(`UPDATE campaigns SET settings = ?::jsonb WHERE id = ?`, `{"dialer":{"mode":"predictive","abandonMessage":"sound:sorry-all-busy",
			"ringSeconds":20,"callingWindow":{"start":"00:00","end":"24:00","days":[1,2,3,4,5,6,7]}}}`, camp)
		var list int64
		db.Raw(`INSERT INTO dialer_lead_lists (campaign_id, name) VALUES (?, 'L') RETURNING id`, camp).Scan(&list)
		for _, n := range []string{"+442079460201", "+442079460202", "+442079460203"} {
			var id int64
			db.Raw(`INSERT INTO dialer_leads (list_id, campaign_id, name, phone1, primary_phone, time_zone)
				VALUES (?, ?, ?, ?, ?, 'Europe/London') RETURNING id`, list, camp, "Lead "+n, n, n).Scan(&id)
			leads[id] = n
		}
	})
	w, err := dialer.New(dialer.Config{DB: f.DB, Engine: f.Engine, Logger: quiet(),
		NewPacer: func(int64, dialer.Settings) pacing.Pacer { return pacing.FixedRatio{Ratio: 1.5} }})
	if err != nil {
		t.Fatal(err)
	}
	worker.Store(w)
	if err := w.Start(bg); err != nil { // outcome loop; ticks are driven below
		t.Fatal(err)
	}
	defer w.Stop()

	for _, a := range []struct {
		id  int64
		ext string
	}{{alice, "1001"}, {bob, "1002"}} {
		f.Double.Script("PJSIP/"+a.ext, aritest.Behavior{AnswerAfter: 10 * time.Millisecond})
		if _, err := f.Engine.Login(bg, a.id); err != nil {
			t.Fatal(err)
		}
		if err := f.Engine.Connect(bg, a.id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: a.ext, Persistent: true}); err != nil {
			t.Fatal(err)
		}
		f.WaitState(t, a.id, cti.AgentPaused, 5*time.Second)
		if err := f.Engine.SetReady(bg, a.id); err != nil {
			t.Fatal(err)
		}
	}
	f.Double.Script("PJSIP/+44*@trunk", aritest.Behavior{AnswerAfter: 50 * time.Millisecond})
	ctitest.Eventually(t, 2*time.Second, "two persistent agents ready", func() bool {
		l, _ := f.Engine.CampaignLoad(bg, camp)
		return l.ReadyPersistent == 2
	})

	if err := w.TickCampaign(bg, camp); err != nil {
		t.Fatal(err)
	}
	dec, _ := w.LastDecision(camp)
	if dec.Dialled != 3 || dec.Snapshot.Ready != 2 {
		t.Fatalf("decision %+v", dec)
	}
	type row struct {
		LeadID  int64
		Number  string
		Outcome string
		AgentID *int64
	}
	var rows []row
	ctitest.Eventually(t, 6*time.Second, "three outcomes", func() bool {
		rows = nil
		f.DB.Raw(`SELECT lead_id, number, outcome, agent_id FROM dialer_attempts WHERE outcome <> '' ORDER BY id`).Scan(&rows)
		return len(rows) == 3
	})
	answered, abandoned := 0, ""
	agents := map[int64]bool{}
	for _, r := range rows {
		switch r.Outcome {
		case "answered":
			answered++
			if r.AgentID != nil {
				agents[*r.AgentID] = true
			}
		case "abandoned":
			abandoned = r.Number
		}
	}
	if answered != 2 || abandoned == "" || !agents[alice] || !agents[bob] {
		t.Fatalf("attempts %+v", rows)
	}
	// Each agent heard one beep on their own leg.
	beeps := 0
	for _, ch := range f.Double.Channels() {
		if len(ch.Args) > 0 && ch.Args[0] == "agentleg" && strings.Join(f.Double.Played(ch.ID), ",") == "sound:beep" {
			beeps++
		}
	}
	if beeps != 2 {
		t.Errorf("%d agent legs heard a beep", beeps)
	}
	// The abandoned contact heard the campaign's message.
	played := false
	for _, ch := range f.Double.Channels() {
		if strings.HasPrefix(ch.ID, "pd-dialer-") && strings.Join(f.Double.Played(ch.ID), ",") == "sound:sorry-all-busy" {
			played = true
		}
	}
	if !played {
		var ids []string
		for _, ch := range f.Double.Channels() {
			ids = append(ids, ch.ID+"="+strings.Join(f.Double.Played(ch.ID), ","))
		}
		t.Errorf("no abandon message played: %v", ids)
	}
	// Leads: answered ones done, the abandoned one retried in 72 h; the next
	// decision counts the abandon against the cap.
	var statuses []string
	f.DB.Raw(`SELECT status FROM dialer_leads ORDER BY status`).Scan(&statuses)
	if strings.Join(statuses, ",") != "done,done,retry" {
		t.Errorf("lead statuses %v", statuses)
	}
	if err := w.TickCampaign(bg, camp); err != nil {
		t.Fatal(err)
	}
	dec, _ = w.LastDecision(camp)
	if dec.Snapshot.Answered != 3 || dec.Snapshot.Abandoned != 1 || len(dec.Snapshot.Busy) != 2 {
		t.Errorf("decision after the calls %+v", dec.Snapshot)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
