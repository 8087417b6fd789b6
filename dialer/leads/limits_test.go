package leads

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Item 7 of the security review: bounded columns and field lengths, no
// control characters, and an .xlsx that expands to far more than its size
// refused before it is decompressed.
func TestImportLimits(t *testing.T) {
	ctx := context.Background()
	opts := Options{DefaultRegion: "GB"}

	wide := "phone" + strings.Repeat(",x", MaxColumns) + "\n07700900123\n"
	if _, err := ImportCSV(ctx, strings.NewReader(wide), int64(len(wide)), &MemorySink{}, opts); !errors.Is(err, ErrTooManyColumns) {
		t.Fatalf("a %d-column header: %v", MaxColumns+1, err)
	}

	csv := "name,phone\n" +
		strings.Repeat("n", MaxFieldLen+1) + ",07700900001\n" +
		"Wide,07700900002" + strings.Repeat(",y", MaxColumns) + "\n" +
		"Esc\x1b[2J\x07 Name,+447400123001\n"
	sink := &MemorySink{}
	res, err := ImportCSV(ctx, strings.NewReader(csv), int64(len(csv)), sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != 2 || res.Accepted != 1 {
		t.Fatalf("result %+v", res)
	}
	if l := sink.Leads[0]; strings.ContainsAny(l.Name, "\x1b\x07") || !strings.HasPrefix(l.Name, "Esc") {
		t.Fatalf("name %q kept control characters", l.Name)
	}

	// A zip bomb: a small file whose sheet expands to 200 MiB.
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create("[Content_Types].xml")
	w.Write([]byte(`<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`))
	w, _ = zw.Create("xl/worksheets/sheet1.xml")
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for range 200 {
		w.Write(chunk)
	}
	zw.Close()
	if b.Len() > 2<<20 {
		t.Fatalf("bomb is %d bytes", b.Len())
	}
	path := filepath.Join(t.TempDir(), "bomb.xlsx")
	os.WriteFile(path, b.Bytes(), 0o600)
	start := time.Now()
	if _, err := ImportXLSXFile(ctx, path, &MemorySink{}, opts); !errors.Is(err, ErrUnzipTooLarge) {
		t.Fatalf("zip bomb: %v", err)
	}
	t.Logf("a %d-byte xlsx expanding to 200 MiB refused in %v", b.Len(), time.Since(start))
}
