package cti_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// TestRandomizedSimulation drives the engine through random interleavings
// of arrivals, answers, misses, hang-ups, state changes, manual calls, phone
// drops and ARI websocket cuts, checking the invariants after every step and
// that every call that reached ctid ends in exactly one complete record.
// CTID_SIM_SEEDS and CTID_SIM_STEPS scale it up.
func TestRandomizedSimulation(t *testing.T) {
	seeds, steps := envInt("CTID_SIM_SEEDS", 3), envInt("CTID_SIM_STEPS", 400)
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { simulate(t, uint64(seed), steps) })
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func simulate(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	const nAgents = 6
	var agents []int64
	st := ctitest.StartSeeded(t, ctitest.Options{OfferTimeout: 150 * time.Millisecond, Logger: quietLogger()}, func(db *gorm.DB) {
		for i := 0; i < nAgents; i++ {
			agents = append(agents, ctitest.Agent(t, db, fmt.Sprintf("sim%d", i), fmt.Sprintf("20%02d", i)))
		}
		ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Sim", DID: did, Platform: did, Agents: agents,
			Codes: []string{"DONE"}})
	})
	ctx := context.Background()
	st.Double.Script("PJSIP/+44*@trunk", aritest.Behavior{AnswerAfter: 5 * time.Millisecond})
	persistent := func(i int) bool { return i%2 == 0 }
	for i, id := range agents {
		ext := fmt.Sprintf("20%02d", i)
		b := aritest.Behavior{AnswerAfter: time.Duration(rng.IntN(5)) * time.Millisecond}
		if !persistent(i) && i == 1 {
			b = aritest.Behavior{NoAnswer: true, RingFor: 30 * time.Millisecond} // misses every offer
		}
		st.Double.Script("PJSIP/"+ext, b)
		st.Engine.Login(ctx, id)
		if err := st.Engine.Connect(ctx, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: ext, Persistent: persistent(i)}); err != nil {
			t.Fatal(err)
		}
	}
	var customers []string // channels that entered Stasis
	// A StasisStart in flight when the websocket is cut is lost (as with
	// Asterisk); if that caller also hangs up before the resync, nothing is
	// left for ctid to find. Such callers are exempt from the record check.
	inFlight := map[string]bool{}
	for step := 0; step < steps; step++ {
		id := agents[rng.IntN(nAgents)]
		switch op := rng.IntN(100); {
		case op < 30: // a caller arrives, maybe hanging up on their own later
			var b *aritest.Behavior
			if rng.IntN(3) == 0 {
				b = &aritest.Behavior{HangupAfter: time.Duration(1+rng.IntN(40)) * time.Millisecond}
			}
			ch, err := st.Double.InboundCall(aritest.Call{App: "ctid", Args: []string{"inbound", did},
				From: "+4477009" + strconv.Itoa(100000+step), To: did, Behavior: b, Answered: true})
			if err == nil {
				customers = append(customers, ch)
			}
		case op < 45:
			st.Engine.SetReady(ctx, id)
		case op < 50:
			st.Engine.SetPaused(ctx, id, "Break")
		case op < 62:
			st.Engine.Wrap(ctx, id, cti.WrapRequest{Code: "DONE", Next: []string{"ready", "paused"}[rng.IntN(2)], Reason: "Break"})
		case op < 72: // a caller hangs up
			if len(customers) > 0 {
				st.Double.HangupChannel(customers[rng.IntN(len(customers))], 16)
			}
		case op < 78:
			st.Engine.Hangup(ctx, id)
		case op < 84:
			st.Engine.Dial(ctx, id, cti.DialRequest{Number: "+4420794600" + strconv.Itoa(10+rng.IntN(89))})
		case op < 87: // an agent's persistent phone drops; they reconnect later
			for _, ch := range st.Double.Channels() {
				if len(ch.Args) > 1 && ch.Args[0] == "agentleg" && ch.Args[1] == strconv.FormatInt(id, 10) && rng.IntN(2) == 0 {
					st.Double.HangupChannel(ch.ID, 16)
				}
			}
		case op < 92:
			i := indexOf(agents, id)
			st.Engine.Connect(ctx, id, cti.ConnectRequest{Mode: cti.PhoneSystemCalls,
				Number: fmt.Sprintf("20%02d", i), Persistent: persistent(i)})
		case op < 94: // the ARI websocket is cut; the client reconnects and resyncs
			if len(customers) > 0 {
				inFlight[customers[len(customers)-1]] = true
			}
			st.Double.DropWebsockets()
		default:
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
		st.Engine.Sync(ctx)
		if bad := st.Engine.CheckInvariants(ctx); len(bad) > 0 {
			t.Fatalf("step %d: invariants broken: %v", step, bad)
		}
	}
	// Wind down: every caller hangs up, every agent wraps.
	waitConnected(t, st)
	for _, ch := range customers {
		st.Double.HangupChannel(ch, 16)
	}
	deadline := time.Now().Add(10 * time.Second)
	for stuck := true; stuck; {
		st.Engine.Sync(ctx)
		stuck = false
		for _, id := range agents {
			if err := st.Engine.Wrap(ctx, id, cti.WrapRequest{Code: "DONE", Next: "paused", Reason: "Break"}); cti.KindOf(err) == cti.KindInvalid {
				st.Engine.Wrap(ctx, id, cti.WrapRequest{Next: "paused", Reason: "Break"}) // skip-campaign call
			}
			s, _ := st.Engine.Snapshot(ctx, id)
			if s.Call != nil {
				stuck = true
				if time.Now().After(deadline) {
					t.Fatalf("agent %d stuck %s with call %+v", id, s.State.State, *s.Call)
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if s, _ := st.Engine.Stats(ctx); s.Queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			q := st.Engine.QueuedChannels(ctx)
			var rows []struct{ ID, State, CustomerChannel string }
			st.DB.Raw(`SELECT id, state, customer_channel FROM interactions ORDER BY created_at DESC LIMIT 5`).Scan(&rows)
			_, alive := st.Double.Channel(strings.Split(q[0], "(")[0])
			t.Fatalf("callers still queued: %v (first alive in Asterisk: %v); recent %+v", q, alive, rows)
		}
	}
	if bad := st.Engine.CheckInvariants(ctx); len(bad) > 0 {
		t.Fatalf("final invariants: %v", bad)
	}
	st.Engine.Flush(ctx)
	for _, ch := range customers {
		var rows []struct{ ID, State string }
		st.DB.Raw(`SELECT id, state FROM interactions WHERE customer_channel = ?`, ch).Scan(&rows)
		if len(rows) == 0 && inFlight[ch] {
			continue
		}
		if len(rows) != 1 || (rows[0].State != "ended" && rows[0].State != "wrapped") {
			t.Fatalf("caller %s: records %+v, want exactly one ended/wrapped", ch, rows)
		}
	}
	var open int64
	st.DB.Raw(`SELECT count(*) FROM interactions WHERE state NOT IN ('ended','wrapped')`).Scan(&open)
	if open != 0 {
		t.Fatalf("%d interactions left open", open)
	}
	t.Logf("seed %d: %d steps, %d inbound callers, all recorded", seed, steps, len(customers))
}

func waitConnected(t *testing.T, st *ctitest.Stack) {
	ctitest.Eventually(t, 5*time.Second, "ARI reconnected", func() bool { return st.ARI.Connected() && st.Double.AppActive("ctid") })
	st.Engine.Sync(context.Background())
}

func indexOf(s []int64, v int64) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
