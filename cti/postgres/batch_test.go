package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

// TestBatchWritesLikeStore: the pipelined batch store leaves the database
// exactly as the plain Store does for the same writes (its SQL is written
// separately, so a column it forgot would show here).
func TestBatchWritesLikeStore(t *testing.T) {
	ctx := context.Background()
	plainDB, batchDB := pgtest.DB(t), pgtest.DB(t)
	for _, db := range []*gorm.DB{plainDB, batchDB} {
		if _, err := postgres.NewAdmin(db).CreateUser(ctx, postgres.NewUser{Username: "alice", Password: "alice-pass-1", Role: cti.RoleAgent}); err != nil {
			t.Fatal(err)
		}
	}
	var uid int64
	plainDB.Raw(`SELECT id FROM users WHERE username = 'alice'`).Scan(&uid)
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	later := at.Add(90 * time.Second)
	rec := cti.Interaction{ID: "I1", Direction: "IN", CustomerNumber: "+447700900123", PlatformNumber: "+442071234567",
		IVRText: "Sales", IVRData: "acct=42", State: cti.CallQueued, QueuedAt: &at, CustomerChannel: "ch1"}
	writes := func(s cti.Store) error {
		steps := []func() error{
			func() error { return s.CreateInteraction(ctx, rec) },
			func() error { return s.AddInteractionEvent(ctx, "I1", at, "", cti.CallQueued, "did") },
			func() error {
				return s.UpsertLeg(ctx, cti.Leg{InteractionID: "I1", ChannelID: "ch1", Role: "customer", Endpoint: "PJSIP/trunk", StartedAt: at})
			},
			func() error {
				r := rec
				r.State, r.AgentID, r.ConnectedAt, r.QueueMs, r.Notes = cti.CallConnected, &uid, &later, 90_000, "notes"
				return s.UpdateInteraction(ctx, r)
			},
			func() error {
				return s.UpsertLeg(ctx, cti.Leg{InteractionID: "I1", ChannelID: "ch1", EndedAt: &later, Cause: "normal"})
			},
			func() error { return s.AddAgentState(ctx, uid, at, cti.AgentReady, cti.AgentOnCall, "", "I1") },
			func() error {
				return s.SaveAgentSession(ctx, cti.AgentSession{UserID: uid, State: cti.AgentOnCall, PhoneMode: cti.PhoneSystemCalls,
					PhoneNumber: "1001", Persistent: true, AgentChannel: "ag1", BridgeID: "agent-1", InteractionID: "I1", StateSince: at})
			},
			func() error {
				return s.SaveTransfer(ctx, cti.TransferRecord{ID: "X1", InteractionID: "I1", AgentID: &uid, Mode: "blind",
					TargetType: "number", Target: "+447700900999", State: "ringing"})
			},
			func() error {
				return s.SaveRecording(ctx, cti.RecordingRecord{Name: "rec-I1", InteractionID: "I1", CustomerChannel: "ch1", State: "recording", StartedAt: &at})
			},
			func() error { return s.AddRecordingEvent(ctx, "rec-I1", "I1", &uid, "pause", "payment", at) },
			func() error {
				return s.AddBookmark(ctx, cti.Bookmark{RecordingName: "rec-I1", InteractionID: "I1", OffsetMs: 3000, Note: "here", UserID: uid, At: at})
			},
			func() error {
				return s.SavePayment(ctx, cti.PaymentRecord{ID: "P1", InteractionID: "I1", AgentID: uid, Reference: "INV-1",
					AmountMinor: 1999, Currency: "GBP", CardBrand: "visa", CardLast4: "4242", Approved: true, GatewayRef: "ch_1"})
			},
		}
		for _, f := range steps {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}
	if err := writes(postgres.NewStore(plainDB)); err != nil {
		t.Fatal(err)
	}
	if err := postgres.NewStore(batchDB).Batch(ctx, writes); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"interactions", "interaction_events", "interaction_legs", "agent_state_history",
		"agent_sessions", "transfers", "recordings", "recording_events", "bookmarks", "payments"} {
		want, got := dump(t, plainDB, table), dump(t, batchDB, table)
		if want != got {
			t.Errorf("%s differs\nplain: %s\nbatch: %s", table, want, got)
		}
		if want == "[]" || want == "" {
			t.Errorf("%s: nothing written", table)
		}
	}
}

// dump returns a table's rows as JSON without the columns that differ by
// the moment of writing.
func dump(t *testing.T, db *gorm.DB, table string) string {
	var rows []string
	if err := db.Raw(`SELECT (to_jsonb(t) - 'updated_at' - 'created_at')::text FROM ` + table + ` t ORDER BY 1`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rows)
	return string(b)
}
