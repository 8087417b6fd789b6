package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
)

// Every string a client sends in a JSON body, a query or a path is checked
// here, in one place (decode and checkURL call it), before any handler sees
// it: Postgres refuses NUL and invalid UTF-8 in text, so such a value once
// stored by the asynchronous record writer could never be written, and
// other control characters only ever come from an attack or a bug. A field
// that holds a person's multi-line text (notes) may also hold tab, line
// feed and carriage return. Lengths are bounded too: nothing ctid stores
// needs more than maxText characters, notes maxNotes.

const (
	maxText  = 1000  // characters in any JSON string (names, codes, numbers, settings values)
	maxNotes = 20000 // characters in a multi-line text (notes)
	maxKey   = 200   // characters in an object key (settings)
	maxQuery = 1000  // bytes of one query value or of the path
)

// multiline names the fields (by their last key) that hold a person's
// multi-line text: they may contain TAB, LF and CR, and be up to maxNotes.
var multiline = map[string]bool{"notes": true, "note": true, "text": true, "description": true, "message": true}

// badRune reports the first character a text may not hold (and its index),
// or -1. C0 controls (except TAB, LF and CR when multi is set), DEL, C1
// controls and invalid UTF-8 are refused.
func badRune(s string, multi bool) int {
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return i
			}
		case r < 0x20:
			if !(multi && (r == '\t' || r == '\n' || r == '\r')) {
				return i
			}
		case r >= 0x7f && r <= 0x9f:
			return i
		}
	}
	return -1
}

// describe names a bad character for the problem detail.
func describe(s string, i int) string {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n <= 1 {
		return "invalid UTF-8"
	}
	return fmt.Sprintf("the control character U+%04X", r)
}

// checkString is the rule for one JSON string value at path.
func checkString(path, last, s string) *Problem {
	multi := multiline[last]
	if i := badRune(s, multi); i >= 0 {
		return badField(path, fmt.Sprintf("%s must not contain %s", path, describe(s, i)))
	}
	limit := maxText
	if multi {
		limit = maxNotes
	}
	if len(s) > limit && utf8.RuneCountInString(s) > limit {
		return badField(path, fmt.Sprintf("%s is limited to %d characters", path, limit))
	}
	return nil
}

// checkText walks a JSON document (already known to be valid JSON) and
// checks every string in it, keys included, naming the field at fault
// (e.g. "wrapCodes[1].label", "settings.payment.kind"). Lone surrogate
// escapes (\ud800) are refused too: encoding/json would silently turn them
// into U+FFFD.
func checkText(body []byte) *Problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object  bool
		key     string // object: the current key
		wantKey bool
		index   int // array: the next index
	}
	var stack []frame
	path := func() (string, string) {
		var b strings.Builder
		last := ""
		for _, f := range stack {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
				last = f.key
			} else {
				b.WriteString("[" + strconv.Itoa(f.index-1) + "]")
			}
		}
		return b.String(), last
	}
	// value marks that a value was read in the innermost container.
	value := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].wantKey = true
			}
		}
	}
	// element is called before a value is read, to advance an array index.
	element := func() {
		if n := len(stack); n > 0 && !stack[n-1].object {
			stack[n-1].index++
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil // io.EOF (or a syntax error decode already reported)
		}
		end := dec.InputOffset()
		n := len(stack)
		isKey := n > 0 && stack[n-1].object && stack[n-1].wantKey
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				element()
				stack = append(stack, frame{object: t == '{', wantKey: t == '{'})
			case '}', ']':
				stack = stack[:n-1]
				value()
			}
			continue
		case string:
			raw := body[start:end]
			if q := bytes.IndexByte(raw, '"'); q >= 0 {
				raw = raw[q:]
			}
			if isKey {
				stack[n-1].key, stack[n-1].wantKey = t, false
				p, _ := path()
				if !utf8.Valid(raw) || loneSurrogate(raw) {
					return badField(p, "a field name must be valid UTF-8 text")
				}
				if badRune(t, false) >= 0 || len(t) > maxKey {
					return badField(p, "a field name must be short text without control characters")
				}
				continue
			}
			element()
			p, last := path()
			if p == "" {
				p = "body"
			}
			if !utf8.Valid(raw) {
				return badField(p, p+" must not contain invalid UTF-8")
			}
			if loneSurrogate(raw) {
				return badField(p, p+" must not contain an unpaired surrogate (\\ud800-\\udfff)")
			}
			if pr := checkString(p, last, t); pr != nil {
				return pr
			}
			value()
		default:
			element()
			value()
		}
	}
}

// loneSurrogate reports whether a raw JSON string literal holds a \uD800–
// \uDFFF escape that is not a high surrogate followed by a low one.
func loneSurrogate(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+1 < len(raw) && raw[i+1] != 'u' {
			i++ // \" \\ \n …
			continue
		}
		u, ok := hex4(raw, i+2)
		if !ok {
			return false // malformed; decode reported it
		}
		switch {
		case u >= 0xD800 && u <= 0xDBFF:
			if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if l, ok := hex4(raw, i+8); ok && l >= 0xDC00 && l <= 0xDFFF {
					i += 11
					continue
				}
			}
			return true
		case u >= 0xDC00 && u <= 0xDFFF:
			return true
		}
		i += 5
	}
	return false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(v), err == nil
}

// checkURL refuses control characters, invalid UTF-8 and overlong values in
// the path and the query of an API request (ids and filters end up in SQL
// parameters, where Postgres would refuse them with a 500).
func (s *Server) checkURL(c *fiber.Ctx) error {
	p, raw := string(c.Request().URI().Path()), c.Path() // decoded, as sent
	if len(raw) > maxQuery || badRune(p, false) >= 0 || badRune(raw, false) >= 0 {
		return badField("path", "the path must be short text without control characters")
	}
	var bad *Problem
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		if bad != nil {
			return
		}
		name := string(k)
		if badRune(name, false) >= 0 {
			name = "query"
		}
		if len(v) > maxQuery || badRune(string(v), false) >= 0 || badRune(string(k), false) >= 0 {
			bad = badField(name, "the query parameter "+strconv.Quote(name)+" must be short text without control characters")
		}
	})
	if bad != nil {
		return bad
	}
	return c.Next()
}

// checkForm applies the JSON string rule to form values (the dialplan's
// form-encoded requests, the text fields of multipart uploads).
func checkForm(values map[string][]string) *Problem {
	for k, vs := range values {
		if badRune(k, false) >= 0 || len(k) > maxKey {
			return badField("form", "a form field name must be short text without control characters")
		}
		for _, v := range vs {
			if p := checkString(k, k, v); p != nil {
				return p
			}
		}
	}
	return nil
}
