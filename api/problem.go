package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/cti"
)

// Problem is an RFC 9457 problem detail, with ctid's extensions: state (the
// agent's current state on a 409) and field (the request field at fault).
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	State     string `json:"state,omitempty"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	// ChangeKept, on a 503 for an unavailable database, says whether the
	// request's change was kept (false: nothing was changed, send it again).
	ChangeKept *bool `json:"changeKept,omitempty"`

	retryAfter int // seconds, for 429 and 503
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// problem types: stable URNs so clients can switch on them.
const problemBase = "urn:ctid:problem:"

var titles = map[int]struct{ slug, title string }{
	400: {"invalid-request", "Invalid request"},
	401: {"unauthenticated", "Authentication required"},
	403: {"forbidden", "Forbidden"},
	404: {"not-found", "Not found"},
	405: {"method-not-allowed", "Method not allowed"},
	409: {"conflict", "Not allowed in the current state"},
	413: {"too-large", "Request body too large"},
	415: {"unsupported-media-type", "Unsupported media type"},
	426: {"upgrade-required", "Websocket upgrade required"},
	429: {"rate-limited", "Too many attempts"},
	500: {"internal", "Internal server error"},
	503: {"unavailable", "Service unavailable"},
}

func newProblem(status int, detail string) *Problem {
	t, ok := titles[status]
	if !ok {
		t.slug, t.title = "error", httpStatusText(status)
	}
	return &Problem{Type: problemBase + t.slug, Title: t.title, Status: status, Detail: detail}
}

func badField(field, detail string) *Problem {
	p := newProblem(400, detail)
	p.Field = field
	return p
}

func httpStatusText(code int) string {
	if s := http.StatusText(code); s != "" {
		return s
	}
	return "Error"
}

// toProblem maps any error to a problem. Domain errors map by kind; fiber
// errors keep their status; anything else is a 500 without internals.
func toProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var ce *cti.Error
	if errors.As(err, &ce) {
		var q *Problem
		switch ce.Kind {
		case cti.KindInvalid:
			q = newProblem(400, ce.Msg)
		case cti.KindNotFound:
			q = newProblem(404, ce.Msg)
		case cti.KindConflict:
			q = newProblem(409, ce.Msg)
		case cti.KindForbidden:
			q = newProblem(403, ce.Msg)
		case cti.KindUnavailable:
			q = newProblem(503, ce.Msg)
		default:
			q = newProblem(500, "internal error")
		}
		q.State, q.Field = ce.State, ce.Field
		return q
	}
	if p := dbProblem(err); p != nil {
		return p
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return newProblem(fe.Code, fe.Message)
	}
	if errors.Is(err, errTimeout) {
		return newProblem(503, "the request timed out")
	}
	return newProblem(500, "internal error")
}

var errTimeout = errors.New("timeout")

func writeProblem(c *fiber.Ctx, p *Problem) error {
	if p.RequestID == "" {
		p.RequestID, _ = c.Locals(localRequestID).(string)
	}
	if p.Instance == "" {
		p.Instance = c.Path()
	}
	if p.retryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, fmt.Sprint(p.retryAfter))
	}
	if p.Status == 401 {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="ctid"`)
	}
	body, _ := json.Marshal(p)
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Send(body)
}

// --- strict JSON decoding ----------------------------------------------------

// decode reads the body into v strictly: one JSON object, no unknown
// fields, right types. An empty body is allowed only when optional is set
// (v is then left as it is).
func decode(c *fiber.Ctx, v any, optional bool) error {
	body := bytes.TrimSpace(c.Body())
	if len(body) == 0 {
		if optional {
			return nil
		}
		return newProblem(400, "a JSON request body is required")
	}
	if ct := c.Get(fiber.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return newProblem(415, "send application/json")
		}
	}
	if body[0] != '{' {
		return newProblem(400, "the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return newProblem(400, "unexpected data after the JSON object")
	}
	if p := checkText(body); p != nil {
		return p
	}
	return nil
}

func jsonProblem(err error) *Problem {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return newProblem(400, fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error()))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return newProblem(400, "the request body must be a JSON object")
		}
		return badField(field, fmt.Sprintf("field %s must be %s, not %s", field, typeName(typ.Type), typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newProblem(400, "malformed JSON: unexpected end of input")
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f := strings.Trim(rest, `"`)
		return badField(f, "unknown field "+rest)
	}
	return newProblem(400, "malformed JSON: "+strings.TrimPrefix(msg, "json: "))
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of type " + t.String()
}
