package leads

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Defaults for Options.
const (
	DefaultBatchSize = 500
	DefaultMaxErrors = 1000
)

// Options configure an import.
type Options struct {
	// Mapping of columns; nil means detect it from the header row.
	Mapping *Mapping
	// DefaultRegion (ISO 3166 alpha-2, e.g. "GB", "US", "AU") is used to
	// read numbers written without a country code. Required.
	DefaultRegion string
	// DNC, when set, is consulted for every number; numbers on it are
	// dropped and a row with no other number is rejected.
	DNC DNC
	// BatchSize is the number of leads per LeadSink.Add call (default 500).
	BatchSize int
	// MaxErrors caps Result.Errors (default 1000); all rejections are
	// still counted.
	MaxErrors int
	// Progress, when set, is called after every batch and once at the end
	// (with Done set).
	Progress func(Progress)
	// Sheet selects the .xlsx worksheet; default the first one.
	Sheet string
	// Comma forces the CSV delimiter; default detected from the header
	// line among ',', ';', tab and '|'.
	Comma rune
}

type importer struct {
	opts  Options
	sink  LeadSink
	cols  *columns
	res   Result
	seen  map[uint64]int32 // primary number (E.164 digits) → row
	batch []Lead

	bytes     func() int64
	bytesTot  int64
	tzCache   map[string]string // column value → canonical name, "" when invalid
	pending   []pendingRow
	maxFields int
}

func newImporter(sink LeadSink, opts Options) (*importer, error) {
	if opts.DefaultRegion == "" {
		return nil, errors.New("leads: Options.DefaultRegion is required")
	}
	opts.DefaultRegion = strings.ToUpper(opts.DefaultRegion)
	if phonenumbers.GetCountryCodeForRegion(opts.DefaultRegion) == 0 {
		return nil, fmt.Errorf("leads: unknown region %q", opts.DefaultRegion)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.MaxErrors <= 0 {
		opts.MaxErrors = DefaultMaxErrors
	}
	return &importer{
		opts:    opts,
		sink:    sink,
		seen:    make(map[uint64]int32),
		batch:   make([]Lead, 0, opts.BatchSize),
		tzCache: make(map[string]string),
	}, nil
}

// header resolves the mapping against the header row.
func (im *importer) header(rec []string) error {
	for i := range rec {
		rec[i] = strings.TrimSpace(clean(rec[i]))
	}
	m := Mapping{}
	if im.opts.Mapping != nil {
		m = *im.opts.Mapping
	} else {
		var err error
		if m, err = DetectMapping(rec); err != nil {
			return err
		}
	}
	if len(rec) > MaxColumns {
		return ErrTooManyColumns
	}
	cols, err := resolve(m, rec)
	if err != nil {
		return err
	}
	im.cols, im.res.Mapping, im.maxFields = cols, m, len(rec)
	return nil
}

func (im *importer) reject(row int, reason string) {
	im.res.Rejected++
	if len(im.res.Errors) < im.opts.MaxErrors {
		im.res.Errors = append(im.res.Errors, RowError{Row: row, Reason: reason})
	}
}

// quote shortens and quotes a user value for an error message.
func quote(s string) string {
	if r := []rune(s); len(r) > 40 {
		s = string(r[:40]) + "…"
	}
	return "'" + s + "'"
}

// clean makes a cell safe to store: valid UTF-8, no NUL bytes (Postgres
// text cannot hold them).
// Limits on what one lead may hold.
const (
	MaxColumns  = 200  // columns in the header and in a row
	MaxFieldLen = 1000 // characters in one field
)

func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	// Other control characters (C0 but tab and line breaks, which a
	// quoted cell may hold; DEL; C1: escape sequences, terminal controls)
	// become spaces.
	if strings.IndexFunc(s, isControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if isControl(r) {
				return ' '
			}
			return r
		}, s)
	}
	return s
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f)
}

// pendingRow is a read row waiting for its numbers to be normalised.
type pendingRow struct {
	num    int
	rec    []string
	phones [MaxPhones]normalized
}

type normalized struct {
	e164 string
	err  error
}

// chunkRows is how many rows are read before their numbers are normalised
// in parallel (parsing numbers is most of an import's CPU time).
const chunkRows = 256

// push queues a row (copying rec, which the reader may reuse).
func (im *importer) push(ctx context.Context, rowNum int, rec []string) error {
	im.pending = append(im.pending, pendingRow{num: rowNum, rec: append([]string(nil), rec...)})
	if len(im.pending) >= chunkRows {
		return im.drain(ctx)
	}
	return nil
}

// drain normalises the queued rows' numbers on all CPUs, then validates
// the rows in order.
func (im *importer) drain(ctx context.Context) error {
	rows := im.pending
	if len(rows) == 0 {
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), 8)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(rows); i += workers {
				r := &rows[i]
				for k, col := range im.cols.phones {
					if col < 0 || col >= len(r.rec) {
						continue
					}
					if raw := strings.TrimSpace(clean(r.rec[col])); raw != "" {
						r.phones[k].e164, r.phones[k].err = Normalize(raw, im.opts.DefaultRegion)
					}
				}
			}
		}()
	}
	wg.Wait()
	for i := range rows {
		if err := im.row(ctx, &rows[i]); err != nil {
			return err
		}
		rows[i] = pendingRow{}
	}
	im.pending = rows[:0]
	return nil
}

// row validates one data row and queues the lead.
func (im *importer) row(ctx context.Context, pr *pendingRow) error {
	rowNum, rec := pr.num, pr.rec
	empty := true
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			empty = false
			break
		}
	}
	if empty {
		return nil
	}
	im.res.Rows++
	// Bounded rows: a lead is shown to agents and sent on websockets.
	if len(rec) > MaxColumns {
		im.reject(rowNum, fmt.Sprintf("the row has more than %d columns", MaxColumns))
		return nil
	}
	for i, f := range rec {
		if len(f) > MaxFieldLen && utf8.RuneCountInString(f) > MaxFieldLen {
			im.reject(rowNum, fmt.Sprintf("column %d is longer than %d characters", i+1, MaxFieldLen))
			return nil
		}
	}
	field := func(i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(clean(rec[i]))
	}
	var l Lead
	l.Row = rowNum
	any := false
	for k, col := range im.cols.phones {
		raw := field(col)
		if raw == "" {
			continue
		}
		e164, err := pr.phones[k].e164, pr.phones[k].err
		if err != nil {
			im.reject(rowNum, fmt.Sprintf("phone %s: %v", quote(raw), err))
			return nil
		}
		if slices.Contains(l.Phones[:k], e164) {
			continue // same number twice in a row: keep the first
		}
		l.Phones[k], any = e164, true
	}
	if !any {
		im.reject(rowNum, "no phone number")
		return nil
	}
	if v := field(im.cols.tz); v != "" {
		tz, ok := im.zone(v)
		if !ok {
			im.reject(rowNum, fmt.Sprintf("time zone %s: unknown time zone", quote(v)))
			return nil
		}
		l.TimeZone = tz
	} else {
		l.TimeZone = ZoneForNumber(l.Primary())
	}
	key, _ := strconv.ParseUint(l.Primary()[1:], 10, 64)
	if first, dup := im.seen[key]; dup {
		im.res.Duplicates++
		im.reject(rowNum, fmt.Sprintf("phone %s: duplicate of row %d", l.Primary(), first))
		return nil
	}
	im.seen[key] = int32(rowNum)
	if len(im.cols.name) > 0 {
		parts := make([]string, 0, len(im.cols.name))
		for _, c := range im.cols.name {
			if v := field(c); v != "" {
				parts = append(parts, v)
			}
		}
		l.Name = strings.Join(parts, " ")
	}
	l.ExternalID = field(im.cols.ext)
	for i, c := range im.cols.data {
		if v := field(c); v != "" {
			if l.Data == nil {
				l.Data = make(map[string]string, len(im.cols.data))
			}
			l.Data[im.cols.dataKeys[i]] = v
		}
	}
	// Columns beyond the header are kept too, so nothing is silently lost.
	for i := im.maxFields; i < len(rec); i++ {
		if v := field(i); v != "" {
			if l.Data == nil {
				l.Data = map[string]string{}
			}
			l.Data[fmt.Sprintf("column %d", i+1)] = v
		}
	}
	im.batch = append(im.batch, l)
	if len(im.batch) >= im.opts.BatchSize {
		return im.flush(ctx)
	}
	return nil
}

// zone validates an IANA time zone name, caching the answer.
func (im *importer) zone(v string) (string, bool) {
	if tz, ok := im.tzCache[v]; ok {
		return tz, tz != ""
	}
	tz := ""
	if v != "Local" && !strings.Contains(v, "..") && !strings.HasPrefix(v, "/") {
		if loc, err := time.LoadLocation(v); err == nil {
			tz = loc.String()
		}
	}
	if len(im.tzCache) < 4096 {
		im.tzCache[v] = tz
	}
	return tz, tz != ""
}

// flush checks the queued leads against the DNC list and the existing
// leads, then hands the survivors to the sink.
func (im *importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		im.progress(false)
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if im.opts.DNC != nil {
		if err := im.applyDNC(ctx); err != nil {
			return err
		}
	}
	if ec, ok := im.sink.(ExistingChecker); ok && len(im.batch) > 0 {
		prim := make([]string, len(im.batch))
		for i := range im.batch {
			prim[i] = im.batch[i].Primary()
		}
		existing, err := ec.ExistingPhones(ctx, prim)
		if err != nil {
			return fmt.Errorf("leads: checking existing leads: %w", err)
		}
		if len(existing) > 0 {
			im.batch = slices.DeleteFunc(im.batch, func(l Lead) bool {
				if existing[l.Primary()] {
					im.res.Duplicates++
					im.reject(l.Row, fmt.Sprintf("phone %s: already a lead in this list", l.Primary()))
					return true
				}
				return false
			})
		}
	}
	if len(im.batch) > 0 {
		if err := im.sink.Add(ctx, im.batch); err != nil {
			return fmt.Errorf("leads: storing batch: %w", err)
		}
		im.res.Accepted += len(im.batch)
	}
	// A fresh slice: the sink may keep the one it was given.
	im.batch = make([]Lead, 0, im.opts.BatchSize)
	im.progress(false)
	return nil
}

func (im *importer) applyDNC(ctx context.Context) error {
	var nums []string
	for i := range im.batch {
		for _, p := range im.batch[i].Phones {
			if p != "" {
				nums = append(nums, p)
			}
		}
	}
	var blocked map[string]bool
	if b, ok := im.opts.DNC.(BatchDNC); ok {
		var err error
		if blocked, err = b.ContainsAny(ctx, nums); err != nil {
			return fmt.Errorf("leads: checking do-not-call list: %w", err)
		}
	} else {
		for _, n := range nums {
			on, err := im.opts.DNC.Contains(ctx, n)
			if err != nil {
				return fmt.Errorf("leads: checking do-not-call list: %w", err)
			}
			if on {
				if blocked == nil {
					blocked = map[string]bool{}
				}
				blocked[n] = true
			}
		}
	}
	if len(blocked) == 0 {
		return nil
	}
	im.batch = slices.DeleteFunc(im.batch, func(l Lead) bool {
		removed, first := 0, ""
		for k, p := range l.Phones {
			if p != "" && blocked[p] {
				if first == "" {
					first = p
				}
				l.Phones[k] = ""
				removed++
			}
		}
		if removed == 0 {
			return false
		}
		if l.Primary() == "" {
			im.res.DNC++
			im.reject(l.Row, fmt.Sprintf("phone %s: on the do-not-call list", first))
			return true
		}
		im.res.DNCNumbersRemoved += removed
		return false
	})
	// DeleteFunc passes copies; write the trimmed numbers back.
	for i := range im.batch {
		for k, p := range im.batch[i].Phones {
			if p != "" && blocked[p] {
				im.batch[i].Phones[k] = ""
			}
		}
	}
	return nil
}

func (im *importer) progress(done bool) {
	if im.opts.Progress == nil {
		return
	}
	p := Progress{
		Rows: im.res.Rows, Accepted: im.res.Accepted, Rejected: im.res.Rejected,
		BytesTotal: im.bytesTot, Done: done,
	}
	if im.bytes != nil {
		p.BytesRead = im.bytes()
	}
	im.opts.Progress(p)
}

func (im *importer) finish(ctx context.Context) (Result, error) {
	if err := im.drain(ctx); err != nil {
		return im.res, err
	}
	if err := im.flush(ctx); err != nil {
		return im.res, err
	}
	slices.SortStableFunc(im.res.Errors, func(a, b RowError) int { return a.Row - b.Row })
	im.progress(true)
	return im.res, nil
}

// Normalize parses a phone number as written in a lead list (national
// format for region, or international) and returns it in E.164.
func Normalize(raw, region string) (string, error) {
	s := strings.TrimSpace(raw)
	s = strings.TrimPrefix(s, "'") // spreadsheet "text" marker
	s = strings.TrimPrefix(s, "tel:")
	if len(s) > 64 {
		return "", errors.New("not a phone number")
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", errors.New("not a phone number")
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", errors.New("not a valid number")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// ZoneForNumber returns the first IANA time zone libphonenumber gives for an
// E.164 number, or "" when unknown.
func ZoneForNumber(e164 string) string {
	tzs, err := phonenumbers.GetTimezonesForPrefix(e164)
	if err != nil || len(tzs) == 0 || tzs[0] == phonenumbers.UNKNOWN_TIMEZONE {
		return ""
	}
	// The list is alphabetical, so a UK number gives Europe/Guernsey first;
	// prefer the zone that names the country's main city when it is there.
	for _, tz := range tzs {
		if preferredZones[tz] {
			return tz
		}
	}
	return tzs[0]
}

// preferredZones break ties where libphonenumber lists dependencies before
// the main zone (same rules, but agents expect the familiar name).
var preferredZones = map[string]bool{
	"Europe/London": true, "Europe/Paris": true, "Europe/Helsinki": true,
	"Europe/Oslo": true, "Europe/Rome": true, "America/New_York": true,
	"America/Toronto": true, "Australia/Sydney": true, "Asia/Kolkata": true,
}
