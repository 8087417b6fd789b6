package postgres

import (
	"strings"
	"unicode/utf8"
)

// storable makes a text from outside ctid (caller ids, dialplan data from
// Asterisk, notes) one Postgres accepts: it refuses NUL and invalid UTF-8
// in text columns (SQLSTATE 22021), and the record writer must not lose a
// call's whole record over one byte. The API refuses such text at its
// edge; this covers what arrives over ARI. Each offending byte becomes
// U+FFFD, so the stored text shows that something was there.
func storable(s string) string {
	if strings.IndexByte(s, 0) < 0 && isValidUTF8(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func isValidUTF8(s string) bool { return utf8.ValidString(s) }
