package postgres

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ctid/ctid/cti"
)

// Usernames are compared without case (a unique index on lower(username),
// migration 0301) after NFKC normalisation, so "ADMIN", "admin" and a
// full-width "ａｄｍｉｎ" are one name. A username is letters and digits of
// one script, with . _ - @ + between them: no spaces, control, format or
// bidi characters (a zero-width space or a right-to-left override would
// make two names look alike), and no mixing of scripts (a Cyrillic "а" in
// "аdmin").
func NormalizeUsername(s string) (string, error) {
	s = strings.TrimSpace(norm.NFKC.String(s))
	bad := func(msg string) (string, error) {
		return "", &cti.Error{Kind: cti.KindInvalid, Field: "username", Msg: msg}
	}
	if s == "" {
		return bad("username is required")
	}
	if utf8.RuneCountInString(s) > 100 {
		return bad("username is limited to 100 characters")
	}
	var script *unicode.RangeTable
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			sc := scriptOf(r)
			if script == nil {
				script = sc
			} else if sc != script {
				return bad("username must not mix alphabets (e.g. a Cyrillic letter among Latin ones)")
			}
		case unicode.IsDigit(r), strings.ContainsRune("._-@+", r):
		default:
			return bad("username may hold only letters, digits and . _ - @ + (no spaces, control or invisible characters)")
		}
	}
	return s, nil
}

var scripts = []*unicode.RangeTable{unicode.Latin, unicode.Cyrillic, unicode.Greek, unicode.Arabic, unicode.Hebrew,
	unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Devanagari, unicode.Thai}

func scriptOf(r rune) *unicode.RangeTable {
	for _, t := range scripts {
		if unicode.Is(t, r) {
			if t == unicode.Hiragana || t == unicode.Katakana {
				return unicode.Han // Japanese mixes these legitimately
			}
			return t
		}
	}
	return nil // another script: all its letters count as one
}
