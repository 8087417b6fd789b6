package sim

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

// BenchmarkPacing prints the pacing table: every scenario (5 team sizes ×
// 3 answer rates × no machines / 30% machines with AMD), 20 seeds of an
// 8-hour day each, ctid's predictive, VICIdial tuned to its best and
// progressive against the occupancy bound; a row as each scenario is done,
// largest teams first. make bench-dialer.
func BenchmarkPacing(b *testing.B) {
	sw := Sweep{Seeds: 20, TuneSeeds: 3}
	for b.Loop() {
		start := time.Now()
		fmt.Fprintf(os.Stdout, "\npacing sweep (%s/%s, GOMAXPROCS %d, %d CPUs)\n", runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU())
		WriteHeader(os.Stdout, sw)
		for i := len(Scenarios) - 1; i >= 0; i-- {
			one := sw
			one.Scenarios = Scenarios[i : i+1]
			WriteRow(os.Stdout, one.Run()[0])
		}
		fmt.Fprintf(os.Stdout, "%d scenarios in %s wall\n", len(Scenarios), time.Since(start).Round(time.Second))
	}
}
