package leads

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// countSink discards leads, so the measurement is the importer's own memory.
type countSink struct{ n int }

func (s *countSink) Add(_ context.Context, b []Lead) error { s.n += len(b); return nil }

const largeRows = 100_000

// memBound is the allowed growth of the heap in use over the baseline
// while importing 100,000 rows.
const memBound = 64 << 20

func genRow(i int) []string {
	phone := fmt.Sprintf("07911 %06d", i)
	if i%1000 == 999 {
		phone = "not-a-number"
	}
	return []string{
		fmt.Sprintf("Customer %d", i), phone, fmt.Sprintf("020 7946 %04d", i%10000), "",
		fmt.Sprintf("EXT-%07d", i), fmt.Sprintf("note for lead %d with some extra text", i), "Premium",
	}
}

var largeHeader = []string{"Name", "Mobile", "Home", "Work", "Customer ID", "Notes", "Segment"}

func measureImport(t *testing.T, run func(func(Progress)) (Result, error)) (Result, uint64, time.Duration) {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	peak := base
	sample := func(Progress) {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	start := time.Now()
	res, err := run(sample)
	el := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	return res, peak - base, el
}

func TestImportCSV100k(t *testing.T) {
	if testing.Short() {
		t.Skip("large import")
	}
	path := filepath.Join(t.TempDir(), "big.csv")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(fh)
	fmt.Fprintln(w, "Name,Mobile,Home,Work,Customer ID,Notes,Segment")
	for i := range largeRows {
		r := genRow(i)
		fmt.Fprintf(w, "%s,%s,%s,%s,%s,%s,%s\n", r[0], r[1], r[2], r[3], r[4], r[5], r[6])
	}
	w.Flush()
	fh.Close()
	st, _ := os.Stat(path)

	sink := &countSink{}
	res, grew, el := measureImport(t, func(p func(Progress)) (Result, error) {
		return ImportFile(ctx, path, sink, Options{DefaultRegion: "GB", Progress: p})
	})
	t.Logf("csv: %d rows (%.1f MiB) in %v, heap in use grew by at most %.1f MiB (bound %d MiB)",
		res.Rows, float64(st.Size())/(1<<20), el.Round(time.Millisecond), float64(grew)/(1<<20), memBound>>20)
	if res.Rows != largeRows || res.Accepted != largeRows-largeRows/1000 || res.Rejected != largeRows/1000 || sink.n != res.Accepted {
		t.Fatalf("%+v", res)
	}
	if grew > memBound {
		t.Fatalf("heap grew by %d MiB, bound %d MiB", grew>>20, memBound>>20)
	}
}

func TestImportXLSX100k(t *testing.T) {
	if testing.Short() {
		t.Skip("large import")
	}
	path := filepath.Join(t.TempDir(), "big.xlsx")
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	row := make([]any, len(largeHeader))
	for i, h := range largeHeader {
		row[i] = h
	}
	sw.SetRow("A1", row)
	for i := range largeRows {
		for j, v := range genRow(i) {
			row[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f.Close()
	st, _ := os.Stat(path)

	sink := &countSink{}
	res, grew, el := measureImport(t, func(p func(Progress)) (Result, error) {
		return ImportFile(ctx, path, sink, Options{DefaultRegion: "GB", Progress: p})
	})
	t.Logf("xlsx: %d rows (%.1f MiB) in %v, heap in use grew by at most %.1f MiB (bound %d MiB)",
		res.Rows, float64(st.Size())/(1<<20), el.Round(time.Millisecond), float64(grew)/(1<<20), memBound>>20)
	if res.Rows != largeRows || res.Accepted != largeRows-largeRows/1000 || sink.n != res.Accepted {
		t.Fatalf("%+v", res)
	}
	if grew > memBound {
		t.Fatalf("heap grew by %d MiB, bound %d MiB", grew>>20, memBound>>20)
	}
}
