package leads

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

var ctx = context.Background()

func findRow(t *testing.T, s *MemorySink, row int) Lead {
	t.Helper()
	for _, l := range s.Leads {
		if l.Row == row {
			return l
		}
	}
	t.Fatalf("row %d not accepted", row)
	return Lead{}
}

func TestImportCSVFixture(t *testing.T) {
	sink := &MemorySink{}
	var last Progress
	res, err := ImportFile(ctx, "testdata/leads_mixed.csv", sink, Options{
		DefaultRegion: "GB",
		DNC:           MemoryDNC{"+447911123459": true},
		Progress:      func(p Progress) { last = p },
	})
	if err != nil {
		t.Fatal(err)
	}
	wantErrs := []string{
		"row 4: phone 'abc': not a phone number",
		"row 5: no phone number",
		"row 6: phone +447911123456: duplicate of row 2",
		"row 7: time zone 'Mars/Olympus': unknown time zone",
		"row 8: phone +447911123459: on the do-not-call list",
		`row 12: malformed CSV: bare " in non-quoted-field`,
		"row 13: phone '1234': not a valid number",
	}
	var got []string
	for _, e := range res.Errors {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(wantErrs, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantErrs, "\n"))
	}
	if res.Rows != 13 || res.Accepted != 6 || res.Rejected != 7 || res.Duplicates != 1 || res.DNC != 1 || res.DNCNumbersRemoved != 1 {
		t.Errorf("result %+v", res)
	}
	if len(sink.Leads) != 6 {
		t.Fatalf("sink has %d leads", len(sink.Leads))
	}
	if !last.Done || last.Rows != 13 || last.BytesRead == 0 || last.BytesRead != last.BytesTotal {
		t.Errorf("last progress %+v", last)
	}

	a := findRow(t, sink, 2)
	if a.Name != "Alice Able" || a.Phones != [3]string{"+447911123456"} || a.TimeZone != "Europe/London" ||
		a.ExternalID != "C1" || a.Data["Notes"] != "likes tea" || len(a.Data) != 1 {
		t.Errorf("alice %+v", a)
	}
	b := findRow(t, sink, 3)
	if b.Phones != [3]string{"+447911123457", "+442079460018", ""} {
		t.Errorf("bob phones %v", b.Phones)
	}
	h := findRow(t, sink, 9)
	if h.Phones != [3]string{"+447911123460", "", ""} {
		t.Errorf("hal: DNC home number not removed: %v", h.Phones)
	}
	i := findRow(t, sink, 10)
	if i.Name != `Ivy "Quoted" Ives` || i.Phones[0] != "+12127365000" || i.TimeZone != "America/New_York" || i.Data["Notes"] != "multi\nline note" {
		t.Errorf("ivy %+v", i)
	}
	n := findRow(t, sink, 14)
	if n.Name != "" || n.TimeZone != "Australia/Sydney" {
		t.Errorf("nameless %+v", n)
	}
	l := findRow(t, sink, 16)
	if l.Phones[0] != "+61293744000" || l.TimeZone != "Australia/Sydney" || l.Data["column 8"] != "extra cell" {
		t.Errorf("lee %+v", l)
	}
	want := Mapping{Name: "Name", Phones: [3]string{"Mobile", "Home", "Work"}, TimeZone: "Time Zone", ExternalID: "Customer ID"}
	if res.Mapping != want {
		t.Errorf("detected mapping %+v", res.Mapping)
	}
}

func TestImportSemicolonFirstLast(t *testing.T) {
	sink := &MemorySink{}
	res, err := ImportFile(ctx, "testdata/leads_semicolon.csv", sink, Options{DefaultRegion: "gb"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || res.Mapping.Name != "Forename+Surname" {
		t.Fatalf("%+v", res)
	}
	if l := sink.Leads[0]; l.Name != "Ann Smith" || l.Phones[1] != "+441614960000" || l.Data["Region"] != "North" {
		t.Errorf("%+v", l)
	}
}

func TestExplicitMapping(t *testing.T) {
	csv := "Cust,Tel A,Tel B,Zone\nX1,(201) 555-0123,212 736 5000,America/Chicago\nX2,,abc,\n"
	sink := &MemorySink{}
	res, err := ImportCSV(ctx, strings.NewReader(csv), int64(len(csv)), sink, Options{
		DefaultRegion: "US",
		Mapping:       &Mapping{ExternalID: "cust", Phones: [3]string{"", "TEL a", "tel_b"}, TimeZone: "zone"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Rejected != 1 || res.Errors[0].Error() != "row 3: phone 'abc': not a phone number" {
		t.Fatalf("%+v", res)
	}
	l := sink.Leads[0]
	if l.Primary() != "+12015550123" || l.Phones[2] != "+12127365000" || l.TimeZone != "America/Chicago" || l.ExternalID != "X1" || len(l.Data) != 0 {
		t.Errorf("%+v", l)
	}

	_, err = ImportCSV(ctx, strings.NewReader(csv), 0, sink, Options{DefaultRegion: "US", Mapping: &Mapping{Phones: [3]string{"Fax"}}})
	if err == nil || !strings.Contains(err.Error(), `"Fax" not in header`) {
		t.Errorf("missing column: %v", err)
	}
	_, err = ImportCSV(ctx, strings.NewReader("a,b\n1,2\n"), 0, sink, Options{DefaultRegion: "US"})
	if !errors.Is(err, ErrNoPhoneColumn) {
		t.Errorf("no phone column: %v", err)
	}
	_, err = ImportCSV(ctx, strings.NewReader(""), 0, sink, Options{DefaultRegion: "US"})
	if !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	_, err = ImportCSV(ctx, strings.NewReader(csv), 0, sink, Options{DefaultRegion: "XX"})
	if err == nil {
		t.Error("bad region accepted")
	}
}

// existingSink pretends some numbers are already in the list.
type existingSink struct {
	MemorySink
	have map[string]bool
}

func (s *existingSink) ExistingPhones(_ context.Context, nums []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, n := range nums {
		if s.have[n] {
			out[n] = true
		}
	}
	return out, nil
}

type batchDNC struct{ calls int }

func (d *batchDNC) Contains(context.Context, string) (bool, error) { panic("batch expected") }
func (d *batchDNC) ContainsAny(_ context.Context, nums []string) (map[string]bool, error) {
	d.calls++
	return map[string]bool{"+447911000003": true}, nil
}

func TestDedupeAgainstExistingAndBatchDNC(t *testing.T) {
	var b strings.Builder
	b.WriteString("phone\n")
	for i := range 10 {
		fmt.Fprintf(&b, "07911 %06d\n", i)
	}
	sink := &existingSink{have: map[string]bool{"+447911000001": true, "+447911000007": true}}
	dnc := &batchDNC{}
	res, err := ImportCSV(ctx, strings.NewReader(b.String()), 0, sink, Options{DefaultRegion: "GB", BatchSize: 4, DNC: dnc})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 7 || res.Duplicates != 2 || res.DNC != 1 || sink.Batches != 3 || dnc.calls != 3 {
		t.Fatalf("%+v batches=%d dnc calls=%d", res, sink.Batches, dnc.calls)
	}
	if res.Errors[0].Error() != "row 3: phone +447911000001: already a lead in this list" {
		t.Error(res.Errors)
	}
}

func TestErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("phone\n")
	for range 50 {
		b.WriteString("nope\n")
	}
	res, err := ImportCSV(ctx, strings.NewReader(b.String()), 0, &MemorySink{}, Options{DefaultRegion: "GB", MaxErrors: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != 50 || len(res.Errors) != 10 {
		t.Fatalf("%d rejected, %d errors", res.Rejected, len(res.Errors))
	}
}

type failSink struct{}

func (failSink) Add(context.Context, []Lead) error { return errors.New("disk full") }

func TestSinkErrorAborts(t *testing.T) {
	_, err := ImportCSV(ctx, strings.NewReader("phone\n07911123456\n"), 0, failSink{}, Options{DefaultRegion: "GB"})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatal(err)
	}
}

func writeXLSX(t testing.TB, path string, rows [][]any) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

func TestImportXLSX(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leads.xlsx")
	writeXLSX(t, path, [][]any{
		{"First Name", "Last Name", "Cell", "Work Phone", "TZ", "Lead ID", "Balance"},
		{"Ann", "Smith", 447911123456, "0161 496 0000", "", 7, 12.5}, // numeric phone cell
		{"Bob", "Jones", "07911 123457", "", "Europe/Dublin", 8, nil},
		{},                                   // empty row, skipped
		{"Cat", "Bad", "12", "", "", 9, nil}, // row 5
		{"Dup", "Ann", "+44 7911 123456", "", "", 10, nil},
	})
	sink := &MemorySink{}
	res, err := ImportFile(ctx, path, sink, Options{DefaultRegion: "GB"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 4 || res.Accepted != 2 || res.Rejected != 2 {
		t.Fatalf("%+v", res)
	}
	if res.Errors[0].Error() != "row 5: phone '12': not a valid number" || res.Errors[1].Error() != "row 6: phone +447911123456: duplicate of row 2" {
		t.Errorf("%v", res.Errors)
	}
	a := sink.Leads[0]
	if a.Name != "Ann Smith" || a.Phones != [3]string{"+447911123456", "", "+441614960000"} || a.ExternalID != "7" || a.Data["Balance"] != "12.5" || a.TimeZone != "Europe/London" {
		t.Errorf("%+v", a)
	}
	if b := sink.Leads[1]; b.TimeZone != "Europe/Dublin" {
		t.Errorf("%+v", b)
	}

	// The reader variant spools to a temp file and gives the same result.
	fh, _ := os.Open(path)
	defer fh.Close()
	res2, err := ImportXLSX(ctx, fh, &MemorySink{}, Options{DefaultRegion: "GB"})
	if err != nil || res2.Accepted != 2 {
		t.Fatal(res2, err)
	}

	// Not a zip.
	bad := filepath.Join(t.TempDir(), "bad.xlsx")
	os.WriteFile(bad, []byte("name,phone\n"), 0o600)
	if _, err := ImportFile(ctx, bad, &MemorySink{}, Options{DefaultRegion: "GB"}); err == nil {
		t.Error("bad xlsx accepted")
	}
}

func TestCancel(t *testing.T) {
	var b strings.Builder
	b.WriteString("phone\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "07911 %06d\n", i)
	}
	c, cancel := context.WithCancel(ctx)
	cancel()
	_, err := ImportCSV(c, strings.NewReader(b.String()), 0, &MemorySink{}, Options{DefaultRegion: "GB"})
	if !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

func TestDetectMapping(t *testing.T) {
	m, err := DetectMapping([]string{"ID", "Full Name", "Phone Number", "Mobile", "Office", "Timezone", "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := Mapping{Name: "Full Name", Phones: [3]string{"Mobile", "Phone Number", "Office"}, TimeZone: "Timezone", ExternalID: "ID"}
	if m != want {
		t.Errorf("%+v", m)
	}
}
