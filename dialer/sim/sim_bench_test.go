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
// progressive against the occupancy bound. make bench-dialer.
func BenchmarkPacing(b *testing.B) {
	sw := Sweep{Seeds: 20, TuneSeeds: 3}
	var res []ScenarioResult
	start := time.Now()
	for b.Loop() {
		res = sw.Run()
	}
	fmt.Fprintf(os.Stdout, "\npacing sweep (%s/%s, GOMAXPROCS %d, %s wall)\n", runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), time.Since(start).Round(time.Second))
	WriteTable(os.Stdout, sw, res)
}
