package sim

import (
	"testing"
	"time"
)

// TestSameDay checks that every policy sees the same numbers in the same
// order with the same fates.
func TestSameDay(t *testing.T) {
	cfg := Config{Agents: 5, AnswerProb: 0.3, Seed: 3}.Defaults()
	a, b := newLeads(cfg), newLeads(cfg)
	b.At(500) // generating further ahead must not change earlier leads
	for i := range 500 {
		if a.At(i) != b.At(i) {
			t.Fatalf("lead %d differs", i)
		}
	}
	// Unanswered calls either end busy/congested after 1-6 s (BusyFrac of
	// them) or ring out at RingTimeout; nothing else.
	ans, busy, ringOut := 0, 0, 0
	minBusy, maxBusy := time.Duration(1<<62), time.Duration(0)
	for i := range 20000 {
		l := a.At(i)
		switch {
		case l.Answers:
			ans++
			if l.Ring < cfg.MinAnswer || l.Ring > cfg.MaxAnswer {
				t.Fatalf("lead %d: answer after %v, want %v..%v", i, l.Ring, cfg.MinAnswer, cfg.MaxAnswer)
			}
		case l.Ring == cfg.RingTimeout:
			ringOut++
		default:
			busy++
			minBusy, maxBusy = min(minBusy, l.Ring), max(maxBusy, l.Ring)
			if l.Ring < time.Second || l.Ring >= 6*time.Second {
				t.Fatalf("lead %d: unanswered call ended after %v, want 1-6 s or the %v ring timeout", i, l.Ring, cfg.RingTimeout)
			}
		}
	}
	if p := float64(ans) / 20000; p < 0.28 || p > 0.32 {
		t.Errorf("answer rate %.3f", p)
	}
	// ~14,000 unanswered, 15% busy: ~2,100 busy calls spread over 1-6 s.
	if f := float64(busy) / float64(busy+ringOut); f < 0.13 || f > 0.17 {
		t.Errorf("busy fraction of unanswered %.3f (%d busy, %d rang out), want about %.2f", f, busy, ringOut, cfg.BusyFrac)
	}
	if minBusy > 1100*time.Millisecond || maxBusy < 5900*time.Millisecond {
		t.Errorf("busy ring times span %v..%v, want about 1 s..6 s", minBusy, maxBusy)
	}
}

// TestMachines checks the AMD model: the machine share, the verdicts'
// error rates and times, and the false-positive share the pacer is told.
func TestMachines(t *testing.T) {
	cfg := Scenario{20, 0.3, 0.3}.Config(5, time.Hour)
	l := newLeads(cfg)
	var ans, mach, fp, fn, ns, people, machineVerdicts, falseVerdicts int
	for i := range 200000 {
		ld := l.At(i)
		if !ld.Answers {
			continue
		}
		ans++
		if ld.Verdict == NotSure {
			ns++
			if ld.AMD != cfg.AMD.NotSureAt {
				t.Fatalf("not sure after %v", ld.AMD)
			}
		}
		if ld.Verdict == Machine {
			machineVerdicts++
			if !ld.Machine {
				falseVerdicts++
			}
		}
		if ld.Machine {
			mach++
			if ld.Verdict == Human {
				fn++
			}
			if ld.Verdict == Machine && (ld.AMD < cfg.AMD.MachineMin || ld.AMD > cfg.AMD.MachineMax) {
				t.Fatalf("machine verdict after %v", ld.AMD)
			}
		} else {
			people++
			if ld.Verdict == Machine {
				fp++
			}
		}
	}
	near := func(what string, got, want, tol float64) {
		if got < want-tol || got > want+tol {
			t.Errorf("%s %.4f, want %.4f ± %.4f", what, got, want, tol)
		}
	}
	near("machine share", float64(mach)/float64(ans), 0.3, 0.01)
	near("false positives", float64(fp)/float64(people), cfg.AMD.FalsePositive, 0.002)
	near("false negatives", float64(fn)/float64(mach), cfg.AMD.FalseNegative, 0.01)
	near("not sure", float64(ns)/float64(ans), cfg.AMD.NotSure, 0.005)
	near("false share of machine verdicts", float64(falseVerdicts)/float64(machineVerdicts), cfg.MachineFalse(), 0.005)
}
