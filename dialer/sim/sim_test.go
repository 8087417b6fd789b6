package sim

import (
	"os"
	"testing"
	"time"
)

func TestTable(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	start := time.Now()
	res := RunAll(1, 8*time.Hour)
	WriteTable(os.Stdout, res)
	t.Logf("took %v", time.Since(start))
}
