package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/cti/postgres/pgtest"
	"github.com/ctid/ctid/dialer/leads"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var ctx = context.Background()

func campaign(t *testing.T, db *gorm.DB, name string) int64 {
	t.Helper()
	var id int64
	if err := db.Raw(`INSERT INTO campaigns (name, kind) VALUES (?, 'outbound') RETURNING id`, name).Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

func TestImportIntoPostgres(t *testing.T) {
	db := pgtest.DB(t)
	s := New(db)
	camp := campaign(t, db, "Renewals")
	other := campaign(t, db, "Other")
	list, err := s.CreateList(ctx, camp, "November", "nov.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddDNC(ctx, 0, "complaint", "+447911000003"); err != nil { // global
		t.Fatal(err)
	}
	if err := s.AddDNC(ctx, other, "", "+447911000004"); err != nil { // other campaign: not ours
		t.Fatal(err)
	}
	if err := s.AddDNC(ctx, camp, "", "+447911000005", "+447911000005"); err != nil {
		t.Fatal(err)
	}

	var b strings.Builder
	b.WriteString("Name,Mobile,Home,Notes\n")
	for i := range 1200 {
		fmt.Fprintf(&b, "Lead %d,07911 %06d,,n%d\n", i, i, i)
	}
	b.WriteString("Dup,07911 000001,,\nHome only,,020 7946 0018,x\n")
	res, err := leads.ImportCSV(ctx, strings.NewReader(b.String()), 0, s.Sink(list), leads.Options{
		DefaultRegion: "GB", DNC: s.DNC(camp),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1199 || res.DNC != 2 || res.Duplicates != 1 {
		t.Fatalf("%+v", res)
	}
	if err := s.SetMapping(ctx, list.ID, res.Mapping); err != nil {
		t.Fatal(err)
	}
	n, _ := s.CountLeads(ctx, list.ID)
	if n != 1199 {
		t.Fatalf("%d leads stored", n)
	}
	page, err := s.ListLeads(ctx, list.ID, 0, 5)
	if err != nil || len(page) != 5 {
		t.Fatal(page, err)
	}
	l := page[1]
	if l.Name != "Lead 1" || l.Phones[0] != "+447911000001" || l.Data["Notes"] != "n1" || l.TimeZone != "Europe/London" || l.Status != "new" || l.Row != 3 {
		t.Errorf("%+v", l)
	}

	// Re-importing the same file adds nothing: every primary number exists.
	res2, err := leads.ImportCSV(ctx, strings.NewReader(b.String()), 0, s.Sink(list), leads.Options{DefaultRegion: "GB", DNC: s.DNC(camp)})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Accepted != 0 || res2.Duplicates != 1200 || res2.DNC != 2 {
		t.Fatalf("re-import: accepted %d, duplicates %d, dnc %d", res2.Accepted, res2.Duplicates, res2.DNC)
	}
	// A different list of the campaign may hold the same numbers.
	list2, _ := s.CreateList(ctx, camp, "December", "", nil)
	if _, err := s.CreateList(ctx, camp, "December", "", nil); err == nil {
		t.Error("duplicate list name accepted")
	}
	sink := s.Sink(list2)
	if err := sink.Add(ctx, []leads.Lead{{Phones: [3]string{"+447911000001"}}, {Phones: [3]string{"+447911000001"}}}); err != nil {
		t.Fatal(err)
	}
	if sink.Skipped != 1 {
		t.Errorf("conflict rule: skipped %d", sink.Skipped)
	}

	// Attempts.
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	aid, err := s.StartAttempt(ctx, Attempt{LeadID: l.ID, CampaignID: camp, Number: l.Phones[0], ChannelID: "dial-1", StartedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	next := start.Add(time.Hour)
	if err := s.EndAttempt(ctx, aid, OutcomeNoAnswer, nil, start.Add(25*time.Second), "retry", &next); err != nil {
		t.Fatal(err)
	}
	hist, err := s.Attempts(ctx, l.ID)
	if err != nil || len(hist) != 1 || hist[0].Outcome != OutcomeNoAnswer || hist[0].ChannelID != "dial-1" || hist[0].EndedAt == nil {
		t.Fatalf("%+v %v", hist, err)
	}
	page, _ = s.ListLeads(ctx, list.ID, l.ID-1, 1)
	if got := page[0]; got.Attempts != 1 || got.Status != "retry" || got.LastOutcome != "no_answer" || !got.NextAttemptAt.Equal(next) {
		t.Errorf("%+v", got)
	}
	if _, err := s.StartAttempt(ctx, Attempt{LeadID: 999999, CampaignID: camp, Number: "+1", StartedAt: start}); err == nil {
		t.Error("attempt on missing lead")
	}
}
