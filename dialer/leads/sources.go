package leads

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/xuri/excelize/v2"
)

// ErrEmpty is returned for a file without a header row.
var ErrEmpty = errors.New("leads: file has no header row")

// ErrTooManyColumns is returned for a header row wider than MaxColumns.
var ErrTooManyColumns = fmt.Errorf("leads: the header row has more than %d columns", MaxColumns)

// ErrUnzipTooLarge is returned for an .xlsx that expands to more than
// unzipLimit allows (a zip bomb, or a sheet far beyond any lead list).
var ErrUnzipTooLarge = errors.New("leads: the .xlsx file expands to too much data")

// unzipLimit bounds what an .xlsx of size bytes may expand to: 40 times
// its size (spreadsheets compress about tenfold), at least 64 MiB, at most
// 2 GiB. A 1 MB file expanding to 1 GB is refused when opened, before any
// of it is decompressed.
func unzipLimit(size int64) int64 {
	return min(max(size*40, 64<<20), 2<<30)
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// ImportCSV streams a CSV file (UTF-8, optional BOM; delimiter ',', ';',
// tab or '|', detected from the header line) into sink. size is the
// source's length for progress reporting (0 if unknown). The returned error
// is for failures that stop the import (unreadable header, bad mapping,
// sink or DNC errors, ctx); rejected rows are reported in Result.
func ImportCSV(ctx context.Context, r io.Reader, size int64, sink LeadSink, opts Options) (Result, error) {
	im, err := newImporter(sink, opts)
	if err != nil {
		return Result{}, err
	}
	cr := &countingReader{r: r}
	im.bytes, im.bytesTot = cr.n.Load, size
	br := bufio.NewReaderSize(cr, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	comma := opts.Comma
	if comma == 0 {
		comma = detectComma(br)
	}
	rd := csv.NewReader(br)
	rd.Comma = comma
	rd.FieldsPerRecord = -1
	rd.ReuseRecord = true

	var hdr []string
	for hdr == nil {
		rec, err := rd.Read()
		if err == io.EOF {
			return im.res, ErrEmpty
		}
		if err != nil {
			return im.res, fmt.Errorf("leads: reading header: %w", err)
		}
		if !blank(rec) {
			hdr = append([]string(nil), rec...)
		}
	}
	if err := im.header(hdr); err != nil {
		return im.res, err
	}
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				im.res.Rows++
				im.reject(pe.StartLine, "malformed CSV: "+pe.Err.Error())
				continue
			}
			return im.res, fmt.Errorf("leads: reading CSV: %w", err)
		}
		line, _ := rd.FieldPos(0)
		if err := im.push(ctx, line, rec); err != nil {
			return im.res, err
		}
	}
	return im.finish(ctx)
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// detectComma picks the delimiter that occurs most in the first line
// (outside quotes).
func detectComma(br *bufio.Reader) rune {
	b, _ := br.Peek(br.Size())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	counts := map[byte]int{}
	inQ := false
	for _, c := range b {
		switch {
		case c == '"':
			inQ = !inQ
		case !inQ && (c == ',' || c == ';' || c == '\t' || c == '|'):
			counts[c]++
		}
	}
	best, n := byte(','), 0
	for _, c := range []byte{',', ';', '\t', '|'} {
		if counts[c] > n {
			best, n = c, counts[c]
		}
	}
	return rune(best)
}

// ImportXLSX spools an .xlsx stream (an upload) to a temporary file, since
// a zip needs random access, and imports it with ImportXLSXFile.
func ImportXLSX(ctx context.Context, r io.Reader, sink LeadSink, opts Options) (Result, error) {
	tmp, err := os.CreateTemp("", "ctid-leads-*.xlsx")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, r); err != nil {
		return Result{}, fmt.Errorf("leads: spooling xlsx: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Result{}, err
	}
	return ImportXLSXFile(ctx, tmp.Name(), sink, opts)
}

// ImportXLSXFile streams one worksheet of an .xlsx file into sink using
// excelize's row iterator: worksheet XML larger than 1 MiB is spilled to a
// temporary file and decoded row by row, so memory stays bounded by the
// shared-strings table rather than the sheet.
func ImportXLSXFile(ctx context.Context, path string, sink LeadSink, opts Options) (Result, error) {
	im, err := newImporter(sink, opts)
	if err != nil {
		return Result{}, err
	}
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	f, err := excelize.OpenFile(path, excelize.Options{UnzipXMLSizeLimit: 1 << 20, UnzipSizeLimit: unzipLimit(size)})
	if err != nil {
		if strings.Contains(err.Error(), "unzip size exceeds") {
			return Result{}, ErrUnzipTooLarge
		}
		return Result{}, fmt.Errorf("leads: opening xlsx: %w", err)
	}
	defer f.Close()
	sheet := opts.Sheet
	if sheet == "" {
		list := f.GetSheetList()
		if len(list) == 0 {
			return Result{}, ErrEmpty
		}
		sheet = list[0]
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return Result{}, fmt.Errorf("leads: reading sheet %q: %w", sheet, err)
	}
	defer rows.Close()
	// The zip is read when opened; progress in bytes is all-or-nothing
	// here, so callers should watch Rows.
	im.bytesTot = size
	im.bytes = func() int64 { return size }
	rowNum := 0
	var hdr []string
	for rows.Next() {
		rowNum++
		rec, err := rows.Columns()
		if err != nil {
			return im.res, fmt.Errorf("leads: row %d: %w", rowNum, err)
		}
		if hdr == nil {
			if blank(rec) {
				continue
			}
			hdr = rec
			if err := im.header(hdr); err != nil {
				return im.res, err
			}
			continue
		}
		if err := im.push(ctx, rowNum, rec); err != nil {
			return im.res, err
		}
	}
	if err := rows.Error(); err != nil {
		return im.res, fmt.Errorf("leads: reading sheet %q: %w", sheet, err)
	}
	if hdr == nil {
		return im.res, ErrEmpty
	}
	return im.finish(ctx)
}

// ImportFile imports a .csv, .txt or .xlsx file by its extension.
func ImportFile(ctx context.Context, path string, sink LeadSink, opts Options) (Result, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		return ImportXLSXFile(ctx, path, sink, opts)
	case ".csv", ".txt", ".tsv":
		fh, err := os.Open(path)
		if err != nil {
			return Result{}, err
		}
		defer fh.Close()
		st, err := fh.Stat()
		if err != nil {
			return Result{}, err
		}
		return ImportCSV(ctx, fh, st.Size(), sink, opts)
	default:
		return Result{}, fmt.Errorf("leads: %s: unsupported file type (want .csv or .xlsx)", filepath.Base(path))
	}
}
