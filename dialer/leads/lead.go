// Package leads imports outbound lead lists from .csv and .xlsx files.
//
// The import is streaming: rows are read one at a time, validated,
// normalised (phone numbers to E.164, time zones to IANA names), deduplicated
// and checked against a do-not-call list, then handed to a LeadSink in
// batches. The package stores nothing itself; dialer/store provides the
// Postgres sink.
package leads

import (
	"context"
	"fmt"
)

// MaxPhones is the number of phone numbers a lead can carry (e.g. mobile,
// home, work).
const MaxPhones = 3

// Lead is one accepted row of a lead list.
type Lead struct {
	// Row is the spreadsheet row number the lead came from (the header is
	// row 1, the first data row is row 2).
	Row        int
	ExternalID string
	Name       string
	// Phones holds E.164 numbers in the positions of Mapping.Phones; an
	// empty string means that column was empty. Primary returns the first
	// non-empty one.
	Phones [MaxPhones]string
	// TimeZone is an IANA name, from the mapped column when present, else
	// derived from the primary number; empty when neither is known (the
	// campaign default applies).
	TimeZone string
	// Data holds the unmapped columns (header → value), empty values
	// omitted.
	Data map[string]string
}

// Primary returns the lead's first non-empty number, the one leads are
// deduplicated by.
func (l *Lead) Primary() string {
	for _, p := range l.Phones {
		if p != "" {
			return p
		}
	}
	return ""
}

// LeadSink receives accepted leads in batches. An error aborts the import.
type LeadSink interface {
	Add(ctx context.Context, batch []Lead) error
}

// ExistingChecker is optionally implemented by a LeadSink to report which of
// the given primary numbers are already leads of the target list, so
// re-importing a file does not create duplicates.
type ExistingChecker interface {
	ExistingPhones(ctx context.Context, e164 []string) (map[string]bool, error)
}

// DNC is a do-not-call list.
type DNC interface {
	Contains(ctx context.Context, e164 string) (bool, error)
}

// BatchDNC is optionally implemented by a DNC to answer many numbers in one
// round trip; the importer prefers it when present.
type BatchDNC interface {
	ContainsAny(ctx context.Context, e164 []string) (map[string]bool, error)
}

// MemoryDNC is an in-memory DNC list, handy for tests and small lists.
type MemoryDNC map[string]bool

// Contains implements DNC.
func (m MemoryDNC) Contains(_ context.Context, e164 string) (bool, error) { return m[e164], nil }

// MemorySink collects leads in memory (tests, previews).
type MemorySink struct {
	Leads   []Lead
	Batches int
}

// Add implements LeadSink.
func (s *MemorySink) Add(_ context.Context, batch []Lead) error {
	s.Leads = append(s.Leads, batch...)
	s.Batches++
	return nil
}

// RowError says why a row was rejected.
type RowError struct {
	Row    int
	Reason string
}

func (e RowError) Error() string { return fmt.Sprintf("row %d: %s", e.Row, e.Reason) }

// Result summarises an import.
type Result struct {
	Mapping  Mapping // the mapping used (detected or given)
	Rows     int     // data rows read, empty rows excluded
	Accepted int
	Rejected int
	// Of the rejected rows: duplicates (within the file or of existing
	// leads) and rows whose every number is on the do-not-call list.
	Duplicates int
	DNC        int
	// DNCNumbersRemoved counts numbers dropped from accepted leads because
	// they are on the do-not-call list (the lead's other numbers are kept).
	DNCNumbersRemoved int
	// Errors lists the first MaxErrors rejections; Rejected counts all.
	Errors []RowError
}

// Progress is reported while importing.
type Progress struct {
	Rows, Accepted, Rejected int
	// BytesRead / BytesTotal of the source; BytesTotal is 0 when unknown.
	// For .xlsx, bytes are those of the worksheet XML as it is decoded.
	BytesRead, BytesTotal int64
	Done                  bool
}
