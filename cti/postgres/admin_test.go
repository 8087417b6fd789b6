package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

func init() {
	postgres.PasswordParams.Memory = 1024 // keep tests fast
	postgres.PasswordParams.Time = 1
}

func TestPasswordHash(t *testing.T) {
	h, err := postgres.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	if !postgres.CheckPassword(h, "correct horse") {
		t.Fatal("right password refused")
	}
	for _, bad := range []string{"", "correct horsE", "correct horse "} {
		if postgres.CheckPassword(h, bad) {
			t.Fatalf("%q accepted", bad)
		}
	}
	h2, _ := postgres.HashPassword("correct horse")
	if h == h2 {
		t.Fatal("same salt twice")
	}
	for _, mal := range []string{"", "$argon2id$", "$argon2i$v=19$m=1024,t=1,p=1$AAAA$AAAA",
		"$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=1024,t=1,p=1$!!$AAAA"} {
		if postgres.CheckPassword(mal, "x") {
			t.Fatalf("malformed %q matched", mal)
		}
	}
}

func TestUsersAndSessions(t *testing.T) {
	ctx := context.Background()
	a := postgres.NewAdmin(pgtest.DB(t))
	u, err := a.CreateUser(ctx, postgres.NewUser{Username: "alice", Password: "password1", DisplayName: "Alice",
		Role: cti.RoleAgent, DefaultPhone: "1001", ManualCallWhenPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || u.Role != cti.RoleAgent || !u.ManualCallWhenPaused || u.DefaultPhone != "1001" {
		t.Fatalf("created %+v", u)
	}
	if _, err := a.CreateUser(ctx, postgres.NewUser{Username: "alice", Password: "password1"}); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("duplicate username: %v", err)
	}
	if _, err := a.CreateUser(ctx, postgres.NewUser{Username: "bob", Password: "short"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("short password: %v", err)
	}
	if _, err := a.CreateUser(ctx, postgres.NewUser{Username: "bob", Password: "password1", Role: "root"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("bad role: %v", err)
	}
	if _, err := a.Authenticate(ctx, "alice", "password1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, "alice", "wrong"); !postgres.IsBadLogin(err) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := a.Authenticate(ctx, "nobody", "password1"); !postgres.IsBadLogin(err) {
		t.Fatalf("unknown user: %v", err)
	}

	now := time.Now()
	if err := a.CreateSession(ctx, "h1", u.ID, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateSession(ctx, "h2", u.ID, now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _, err := a.SessionUser(ctx, "h1", now); err != nil || got.ID != u.ID {
		t.Fatalf("live session: %v %+v", err, got)
	}
	if _, _, err := a.SessionUser(ctx, "h2", now); cti.KindOf(err) != cti.KindNotFound {
		t.Fatalf("expired session: %v", err)
	}
	if err := a.RevokeSession(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.SessionUser(ctx, "h1", now); cti.KindOf(err) != cti.KindNotFound {
		t.Fatalf("revoked session: %v", err)
	}

	a.CreateSession(ctx, "h3", u.ID, now.Add(time.Hour))
	dis, name, role := true, "Alice B", cti.RoleSupervisor
	u2, err := a.UpdateUser(ctx, u.ID, postgres.UserPatch{Disabled: &dis, DisplayName: &name, Role: &role})
	if err != nil || !u2.Disabled || u2.DisplayName != "Alice B" || u2.Role != cti.RoleSupervisor {
		t.Fatalf("update: %v %+v", err, u2)
	}
	if _, _, err := a.SessionUser(ctx, "h3", now); cti.KindOf(err) != cti.KindNotFound {
		t.Fatalf("disabling must revoke sessions: %v", err)
	}
	if _, err := a.Authenticate(ctx, "alice", "password1"); !postgres.IsBadLogin(err) {
		t.Fatalf("disabled user logged in: %v", err)
	}
	if _, err := a.UpdateUser(ctx, 9999, postgres.UserPatch{DisplayName: &name}); cti.KindOf(err) != cti.KindNotFound {
		t.Fatalf("missing user: %v", err)
	}
	all, err := a.Users(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("users: %v %v", err, all)
	}
}

func TestCampaignCRUD(t *testing.T) {
	ctx := context.Background()
	db := pgtest.DB(t)
	a := postgres.NewAdmin(db)
	u, _ := a.CreateUser(ctx, postgres.NewUser{Username: "agent1", Password: "password1"})
	c, err := a.CreateCampaign(ctx, postgres.CampaignRecord{Name: "Sales", PlatformNumber: "+441234567890",
		DIDs: []string{"+441234567890"}, WrapCodes: []cti.WrapCode{{Code: "SALE", Label: "Sale"}, {Code: "NS"}},
		DefaultWrapCode: "NS", WrapLimitSeconds: 30, AgentIDs: []int64{u.ID, u.ID},
		Settings: json.RawMessage(`{"pacing":1.5}`)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != "inbound" || c.DefaultRegion != "GB" || len(c.WrapCodes) != 2 || len(c.AgentIDs) != 1 ||
		len(c.DIDs) != 1 || !strings.Contains(string(c.Settings), "pacing") {
		t.Fatalf("created %+v", c)
	}
	// the engine's store sees it
	cfg, err := postgres.NewStore(db).LoadConfig(ctx)
	if err != nil || cfg.ByDID["+441234567890"] == nil || len(cfg.ByDID["+441234567890"].WrapCodes) != 2 {
		t.Fatalf("LoadConfig: %v %+v", err, cfg)
	}
	acc, _ := a.User(ctx, u.ID)
	if len(acc.CampaignIDs) != 1 || acc.CampaignIDs[0] != c.ID {
		t.Fatalf("user campaigns %+v", acc)
	}

	c.Name, c.DIDs, c.WrapCodes, c.DefaultWrapCode, c.AgentIDs = "Sales 2", []string{"+442000000000"}, nil, "", nil
	c.WrapLimitSeconds = 0
	c2, err := a.UpdateCampaign(ctx, c.ID, c)
	if err != nil || c2.Name != "Sales 2" || len(c2.DIDs) != 1 || c2.DIDs[0] != "+442000000000" || len(c2.WrapCodes) != 0 || len(c2.AgentIDs) != 0 {
		t.Fatalf("update: %v %+v", err, c2)
	}
	for name, bad := range map[string]postgres.CampaignRecord{
		"name":            {},
		"kind":            {Name: "x", Kind: "sideways"},
		"defaultWrapCode": {Name: "x", DefaultWrapCode: "nope"},
		"agentIds":        {Name: "x", AgentIDs: []int64{424242}},
		"settings":        {Name: "x", Settings: json.RawMessage(`[1]`)},
		"dids":            {Name: "x", DIDs: []string{"1", "1"}},
	} {
		_, err := a.CreateCampaign(ctx, bad)
		var ce *cti.Error
		if cti.KindOf(err) != cti.KindInvalid {
			t.Errorf("%s: %v", name, err)
		} else if errorsAs(err, &ce); ce.Field != name {
			t.Errorf("%s: field %q", name, ce.Field)
		}
	}
	if _, err := a.CreateCampaign(ctx, postgres.CampaignRecord{Name: "Other", DIDs: []string{"+442000000000"}}); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("DID reuse: %v", err)
	}
	if _, err := a.UpdateCampaign(ctx, 9999, postgres.CampaignRecord{Name: "x"}); cti.KindOf(err) != cti.KindNotFound {
		t.Fatalf("update missing: %v", err)
	}
	if err := a.DeleteCampaign(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteCampaign(ctx, c.ID); cti.KindOf(err) != cti.KindNotFound {
		t.Fatalf("delete twice: %v", err)
	}
	if l, _ := a.Campaigns(ctx); len(l) != 0 {
		t.Fatalf("left %+v", l)
	}
}

func TestPauseReasonsAndWorkflows(t *testing.T) {
	ctx := context.Background()
	a := postgres.NewAdmin(pgtest.DB(t))
	all, _ := a.PauseReasons(ctx, false)
	agentOnly, _ := a.PauseReasons(ctx, true)
	if len(all) != 5 || len(agentOnly) != 3 {
		t.Fatalf("seeded reasons: %v / %v", all, agentOnly)
	}
	r, err := a.CreatePauseReason(ctx, " Coaching ")
	if err != nil || r.Name != "Coaching" || r.ID == 0 {
		t.Fatalf("create: %v %+v", err, r)
	}
	if _, err := a.CreatePauseReason(ctx, "Coaching"); cti.KindOf(err) != cti.KindConflict {
		t.Fatalf("dup: %v", err)
	}
	if _, err := a.RenamePauseReason(ctx, r.ID, "Meeting"); err != nil {
		t.Fatal(err)
	}
	for _, x := range all {
		if x.System {
			if err := a.DeletePauseReason(ctx, x.ID); cti.KindOf(err) != cti.KindConflict {
				t.Fatalf("deleting system reason: %v", err)
			}
		}
	}
	if err := a.DeletePauseReason(ctx, r.ID); err != nil {
		t.Fatal(err)
	}

	w, err := a.CreateWorkflow(ctx, postgres.WorkflowRecord{Name: "Main IVR", Context: "ivr-main"})
	if err != nil || w.Extension != "s" || w.Priority != 1 {
		t.Fatalf("workflow: %v %+v", err, w)
	}
	if _, err := a.CreateWorkflow(ctx, postgres.WorkflowRecord{Name: "x", Context: "a,b"}); cti.KindOf(err) != cti.KindInvalid {
		t.Fatalf("bad context: %v", err)
	}
	w.Extension = "100"
	if w2, err := a.UpdateWorkflow(ctx, w.ID, w); err != nil || w2.Extension != "100" {
		t.Fatalf("update: %v", err)
	}
	if got, err := a.Workflow(ctx, w.ID); err != nil || got.Extension != "100" {
		t.Fatalf("get: %v %+v", err, got)
	}
	if err := a.DeleteWorkflow(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Workflow(ctx, w.ID); cti.KindOf(err) != cti.KindNotFound {
		t.Fatalf("deleted: %v", err)
	}
}

func errorsAs(err error, target **cti.Error) bool { return errors.As(err, target) }
