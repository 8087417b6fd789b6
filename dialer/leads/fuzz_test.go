package leads

import (
	"strings"
	"testing"
)

// FuzzImportCSV feeds arbitrary bytes to the CSV importer: it must never
// panic, and its counts must add up.
func FuzzImportCSV(f *testing.F) {
	f.Add("name,phone\nAnn,07911 123456\n")
	f.Add("Mobile;Home;TZ\n+447911123456;020 7946 0018;Europe/London\n;abc;Mars\n")
	f.Add("\xef\xbb\xbfphone\r\n\"07911\n123456\"\r\n\"unterminated\n")
	f.Add("phone,x\n07911 123456,a,b,c\n07911 123456\n,,\n\x00\xff,\"q\"\"\n")
	f.Fuzz(func(t *testing.T, in string) {
		sink := &MemorySink{}
		res, err := ImportCSV(ctx, strings.NewReader(in), int64(len(in)), sink, Options{
			DefaultRegion: "GB", BatchSize: 3, MaxErrors: 5,
			DNC: MemoryDNC{"+447911123456": true},
		})
		if err != nil {
			return
		}
		if res.Accepted+res.Rejected != res.Rows || res.Accepted != len(sink.Leads) || len(res.Errors) > 5 {
			t.Fatalf("inconsistent result %+v, %d leads", res, len(sink.Leads))
		}
		for _, l := range sink.Leads {
			if p := l.Primary(); !strings.HasPrefix(p, "+") {
				t.Fatalf("lead without E.164 primary: %+v", l)
			}
			for k, v := range l.Data {
				if strings.ContainsRune(k+v, 0) {
					t.Fatalf("NUL kept in data")
				}
			}
		}
	})
}
