package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func completeCapture(t testing.TB, pan, cvv string) *Capture {
	t.Helper()
	c := NewCapture()
	keys := pan
	if len(pan) < DetectBrand([]byte(pan)).MaxLength() {
		keys += "#"
	}
	feed(t, c, keys+cvv)
	if !c.Complete() {
		t.Fatalf("capture not complete: %s", c.Progress())
	}
	return c
}

func testRequest(c *Capture) Request {
	return Request{
		Reference: "ORD-1", Amount: 1234, Currency: "GBP", CardholderName: "Jo Bloggs",
		ExpiryMonth: 12, ExpiryYear: 2030,
	}.WithCard(c)
}

func TestSandboxCards(t *testing.T) {
	sb := NewSandbox("GBP")
	sb.Now = func() time.Time { return testNow }
	for _, sc := range SandboxCards {
		cvv := "123"
		if sc.Brand == Amex {
			cvv = "1234"
		}
		c := completeCapture(t, sc.Number, cvv)
		res, err := sb.Charge(context.Background(), testRequest(c))
		c.Wipe()
		if err != nil {
			t.Fatalf("%s: %v", sc.Number, err)
		}
		if res.Approved != sc.Approve || res.DeclineReason != sc.Decline {
			t.Errorf("%s: %+v, want approve=%t decline=%q", sc.Number, res, sc.Approve, sc.Decline)
		}
		if res.CardLast4 != sc.Number[len(sc.Number)-4:] || res.CardBrand != sc.Brand {
			t.Errorf("%s: last4/brand %+v", sc.Number, res)
		}
		if sc.Approve && (!strings.HasPrefix(res.Receipt, "SBX-") || len(res.Receipt) != 14) {
			t.Errorf("%s: receipt %q", sc.Number, res.Receipt)
		}
	}
	// Deterministic receipts.
	r1, _ := sb.Charge(context.Background(), testRequest(completeCapture(t, "4242424242424242", "123")))
	r2, _ := sb.Charge(context.Background(), testRequest(completeCapture(t, "4242424242424242", "999")))
	r3, _ := sb.Charge(context.Background(), Request{Reference: "ORD-2", Amount: 1234, ExpiryMonth: 1, ExpiryYear: 27}.WithCard(completeCapture(t, "4242424242424242", "123")))
	if r1.Receipt != r2.Receipt || r1.Receipt == r3.Receipt || !r3.Approved {
		t.Errorf("receipts %q %q %q", r1.Receipt, r2.Receipt, r3.Receipt)
	}
	// Expired expiry → decline "expired card".
	req := testRequest(completeCapture(t, "4242424242424242", "123"))
	req.ExpiryMonth, req.ExpiryYear = 10, 2026
	res, err := sb.Charge(context.Background(), req)
	if err != nil || res.Approved || res.DeclineReason != "expired card" {
		t.Errorf("expired: %+v %v", res, err)
	}
	// A valid number that is not a test card.
	res, err = sb.Charge(context.Background(), testRequest(completeCapture(t, "4111111111111111", "123")))
	if err != nil || res.Approved || res.DeclineReason != "not a sandbox test card" {
		t.Errorf("other card: %+v %v", res, err)
	}
	// Bad requests are errors (4xx for the API).
	bad := []func(*Request){
		func(r *Request) { r.Amount = 0 },
		func(r *Request) { r.Reference = " " },
		func(r *Request) { r.Currency = "XYZ" },
		func(r *Request) { r.ExpiryMonth = 13 },
		func(r *Request) { r.CardholderName = "a\x00b" },
	}
	for i, mod := range bad {
		r := testRequest(completeCapture(t, "4242424242424242", "123"))
		mod(&r)
		if _, err := sb.Charge(context.Background(), r); err == nil {
			t.Errorf("bad request %d accepted", i)
		}
	}
	// Incomplete and wiped captures.
	c := NewCapture()
	feed(t, c, "4242")
	if _, err := sb.Charge(context.Background(), testRequest(c)); !errors.Is(err, ErrCardIncomplete) {
		t.Errorf("incomplete: %v", err)
	}
	c = completeCapture(t, "4242424242424242", "123")
	c.Wipe()
	if _, err := sb.Charge(context.Background(), testRequest(c)); !errors.Is(err, ErrWiped) {
		t.Errorf("wiped: %v", err)
	}
	if _, err := sb.Charge(context.Background(), Request{Reference: "x", Amount: 1, ExpiryMonth: 1, ExpiryYear: 2027}); !errors.Is(err, ErrCardIncomplete) {
		t.Errorf("no card: %v", err)
	}
}

func TestConfig(t *testing.T) {
	good := []string{
		`{"kind":"sandbox","currency":"gbp"}`,
		`{"kind":"stripe","api_key":"sk_test_123456","currency":"EUR"}`,
		`{"kind":"stripe","api_key":"rk_live_abcdef","currency":"USD","base_url":"http://127.0.0.1:12111/","moto":true}`,
	}
	for _, g := range good {
		c, err := ParseConfig([]byte(g))
		if err != nil {
			t.Errorf("%s: %v", g, err)
			continue
		}
		gw, err := New(c)
		if err != nil || gw == nil {
			t.Errorf("New(%s): %v", g, err)
		}
		if strings.Contains(c.String(), "123456") || strings.Contains(fmt.Sprintf("%#v", c), "abcdef") {
			t.Errorf("config String leaks key: %s", c)
		}
	}
	c, _ := ParseConfig([]byte(good[1]))
	if c.BaseURL != "https://api.stripe.com" || c.Currency != "EUR" {
		t.Errorf("defaults: %+v", c)
	}
	bad := []string{
		``, `{}`, `[]`, `{"kind":"paypal","currency":"GBP"}`, `{"kind":"sandbox"}`,
		`{"kind":"sandbox","currency":"GBP","api_key":"sk_test_1234"}`,
		`{"kind":"stripe","currency":"GBP"}`,
		`{"kind":"stripe","currency":"GBP","api_key":"pk_test_123456"}`,
		`{"kind":"stripe","currency":"GBP","api_key":"sk_test_123456","base_url":"http://evil.example"}`,
		`{"kind":"stripe","currency":"GBP","api_key":"sk_test_123456","base_url":"ftp://x"}`,
		`{"kind":"sandbox","currency":"GBP","extra":1}`,
		`{"kind":"sandbox","currency":"GBP"} {}`,
	}
	for _, b := range bad {
		if _, err := ParseConfig([]byte(b)); !errors.Is(err, ErrConfig) {
			t.Errorf("ParseConfig(%s) = %v, want ErrConfig", b, err)
		}
	}
}

// stripeDouble is an httptest server imitating the two Stripe endpoints.
type stripeDouble struct {
	mu       sync.Mutex
	bodies   map[string]string // path → raw body
	headers  map[string]http.Header
	pmStatus int
	pmBody   string
	piStatus int
	piBody   string
}

func (d *stripeDouble) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	d.mu.Lock()
	d.bodies[r.URL.Path] = string(b)
	d.headers[r.URL.Path] = r.Header.Clone()
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v1/payment_methods":
		w.WriteHeader(d.pmStatus)
		io.WriteString(w, d.pmBody)
	case "/v1/payment_intents":
		w.WriteHeader(d.piStatus)
		io.WriteString(w, d.piBody)
	default:
		w.WriteHeader(404)
	}
}

func newStripeDouble() *stripeDouble {
	return &stripeDouble{
		bodies: map[string]string{}, headers: map[string]http.Header{},
		pmStatus: 200, pmBody: `{"id":"pm_1","object":"payment_method"}`,
		piStatus: 200, piBody: `{"id":"pi_1","status":"succeeded","latest_charge":"ch_1"}`,
	}
}

func TestStripeFormEncoding(t *testing.T) {
	d := newStripeDouble()
	srv := httptest.NewServer(d)
	defer srv.Close()
	gw, err := New(Config{Kind: "stripe", APIKey: "sk_test_abc123", BaseURL: srv.URL, Currency: "GBP", MOTO: true})
	if err != nil {
		t.Fatal(err)
	}
	c := completeCapture(t, "4242424242424242", "123")
	req := testRequest(c)
	req.CardholderName = "Jo Bloggs & Co"
	req.IdempotencyKey = "idem1"
	res, err := gw.Charge(context.Background(), req)
	c.Wipe()
	if err != nil {
		t.Fatal(err)
	}
	if !res.Approved || res.Reference != "pi_1" || res.Receipt != "ch_1" || res.CardLast4 != "4242" || res.CardBrand != Visa {
		t.Fatalf("result %+v", res)
	}
	wantPM := "type=card&card%5Bnumber%5D=4242424242424242&card%5Bexp_month%5D=12&card%5Bexp_year%5D=2030&card%5Bcvc%5D=123&billing_details%5Bname%5D=Jo+Bloggs+%26+Co"
	if got := d.bodies["/v1/payment_methods"]; got != wantPM {
		t.Errorf("payment_methods body\n got %s\nwant %s", got, wantPM)
	}
	wantPI := "amount=1234&currency=gbp&confirm=true&payment_method=pm_1&payment_method_types%5B0%5D=card&description=ORD-1&metadata%5Breference%5D=ORD-1&payment_method_options%5Bcard%5D%5Bmoto%5D=true"
	if got := d.bodies["/v1/payment_intents"]; got != wantPI {
		t.Errorf("payment_intents body\n got %s\nwant %s", got, wantPI)
	}
	// Same encoding as url.Values would give.
	v, _ := url.ParseQuery(d.bodies["/v1/payment_methods"])
	if v.Get("card[number]") != "4242424242424242" || v.Get("card[cvc]") != "123" || v.Get("billing_details[name]") != "Jo Bloggs & Co" {
		t.Errorf("parsed %v", v)
	}
	h := d.headers["/v1/payment_methods"]
	if h.Get("Authorization") != "Bearer sk_test_abc123" || h.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		h.Get("Idempotency-Key") != "idem1-pm" || h.Get("Stripe-Version") != StripeAPIVersion {
		t.Errorf("headers %v", h)
	}
	if d.headers["/v1/payment_intents"].Get("Idempotency-Key") != "idem1-pi" {
		t.Error("pi idempotency key")
	}
	if strings.Contains(d.bodies["/v1/payment_intents"], "4242424242424242") {
		t.Error("PAN sent in the payment intent")
	}
}

func TestStripeOutcomes(t *testing.T) {
	const pan, cvv = "4000000000009995", "737"
	cases := []struct {
		name           string
		pmStatus, piSt int
		pmBody, piBody string
		approved       bool
		decline        string
		wantErr        bool
		receipt, ref   string
	}{
		{name: "succeeded expanded charge", piBody: `{"id":"pi_2","status":"succeeded","latest_charge":{"id":"ch_2"}}`, approved: true, receipt: "ch_2", ref: "pi_2"},
		{name: "decline on pi 402", piSt: 402, piBody: `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}`, decline: "insufficient funds"},
		{name: "decline on pm 402", pmStatus: 402, pmBody: `{"error":{"type":"card_error","code":"incorrect_number","message":"Your card number 4000000000009995 is incorrect."}}`, decline: "invalid card number"},
		{name: "lost card hidden", piSt: 402, piBody: `{"error":{"type":"card_error","code":"card_declined","decline_code":"lost_card"}}`, decline: "card declined"},
		{name: "requires_payment_method", piBody: `{"id":"pi_3","status":"requires_payment_method","last_payment_error":{"code":"expired_card"}}`, decline: "expired card", ref: "pi_3"},
		{name: "requires_action", piBody: `{"id":"pi_4","status":"requires_action"}`, decline: "card requires authentication (3-D Secure), not possible by phone", ref: "pi_4"},
		{name: "auth error", pmStatus: 401, pmBody: `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****1234 for card 4000000000009995 cvc 737"}}`, wantErr: true},
		{name: "server error", piSt: 500, piBody: `{"error":{"type":"api_error","message":"boom 4000 0000 0000 9995"}}`, wantErr: true},
		{name: "not json", piSt: 502, piBody: `<html>4000000000009995</html>`, wantErr: true},
		{name: "processing", piBody: `{"id":"pi_5","status":"processing"}`, wantErr: true, ref: "pi_5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newStripeDouble()
			if tc.pmStatus != 0 {
				d.pmStatus, d.pmBody = tc.pmStatus, tc.pmBody
			}
			if tc.piSt != 0 {
				d.piStatus = tc.piSt
			}
			if tc.piBody != "" {
				d.piBody = tc.piBody
			}
			srv := httptest.NewServer(d)
			defer srv.Close()
			gw := NewStripe(Config{Kind: "stripe", APIKey: "sk_test_x1234", BaseURL: srv.URL, Currency: "GBP"})
			c := completeCapture(t, pan, cvv)
			res, err := gw.Charge(context.Background(), testRequest(c))
			c.Wipe()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				if !errors.Is(err, ErrGateway) {
					t.Errorf("error does not wrap ErrGateway: %v", err)
				}
				assertNoCard(t, err.Error(), pan, cvv)
			}
			if res.Approved != tc.approved || res.DeclineReason != tc.decline || res.Receipt != tc.receipt || res.Reference != tc.ref {
				t.Errorf("result %+v", res)
			}
			assertNoCard(t, fmt.Sprintf("%+v %#v", res, res), pan, cvv)
		})
	}
	// Unreachable gateway: error names the URL only.
	gw := NewStripe(Config{Kind: "stripe", APIKey: "sk_test_x1234", BaseURL: "http://127.0.0.1:1", Currency: "GBP"})
	c := completeCapture(t, pan, cvv)
	_, err := gw.Charge(context.Background(), testRequest(c))
	if !errors.Is(err, ErrGateway) {
		t.Fatalf("unreachable: %v", err)
	}
	assertNoCard(t, err.Error(), pan, cvv)
}

// assertNoCard fails if s contains the PAN (also split in groups of 4) or
// the CVV.
func assertNoCard(t testing.TB, s, pan, cvv string) {
	t.Helper()
	compact := strings.NewReplacer(" ", "", "-", "", "\"", "", ",", "").Replace(s)
	if strings.Contains(compact, pan) || strings.Contains(s, pan[:6]+pan[6:12]) {
		t.Errorf("PAN leaked in %q", s)
	}
	if cvv != "" && strings.Contains(s, cvv) {
		t.Errorf("CVV leaked in %q", s)
	}
}

// TestNoCardInOutput formats, marshals and logs every value that holds
// card data and greps the output for the card number and CVV.
func TestNoCardInOutput(t *testing.T) {
	const pan, cvv = "5555555555554444", "987"
	c := completeCapture(t, pan, cvv)
	req := testRequest(c)
	holder := struct {
		Capture *Capture
		Req     Request
		Reqp    *Request
		Prog    Progress
		private *Capture
	}{c, req, &req, c.Progress(), c}

	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		for _, v := range []any{c, req, &req, holder, &holder, []any{c, req}, map[string]any{"c": c}} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
	}
	fmt.Fprintln(&out, c, req, holder)
	for _, v := range []any{c, req, &req, holder, c.Progress()} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
	}
	// No timestamps: their digits could contain the CVV by chance (a CI run
	// logged 06:14:55.19987686, "987").
	noTime := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	for _, h := range []slog.Handler{slog.NewJSONHandler(&out, noTime), slog.NewTextHandler(&out, noTime)} {
		l := slog.New(h)
		l.Info("capture", "capture", c, "req", req, "reqp", &req, "holder", holder, slog.Any("any", c))
		l.Info("group", slog.Group("g", "c", c))
	}
	log.New(&out, "", 0).Printf("%v %+v", c, req)
	// Errors from every failure path.
	sb := NewSandbox("GBP")
	for _, mod := range []func(*Request){
		func(r *Request) { r.Amount = -1 },
		func(r *Request) { r.ExpiryMonth = 0 },
		func(r *Request) { r.Currency = "??" },
		func(r *Request) { r.Reference = "" },
	} {
		r := req
		mod(&r)
		_, err := sb.Charge(context.Background(), r)
		fmt.Fprintln(&out, err, fmt.Sprintf("%+v", err))
	}
	for _, k := range "AB*#x" {
		if err := c.Digit(k); err != nil {
			fmt.Fprintln(&out, err.Error())
		}
	}
	fmt.Fprintln(&out, c.Progress().Error)

	s := out.String()
	if !strings.Contains(s, "4444") || !strings.Contains(s, "mastercard") {
		t.Fatalf("output lacks the masked progress: %.300s", s)
	}
	assertNoCard(t, s, pan, cvv)
	if strings.Contains(s, pan[:12]) || strings.Contains(s, "555555") {
		t.Errorf("PAN prefix leaked")
	}
	c.Wipe()
}

// TestStripeNoCardOutsideBody runs a charge through the double with a
// logging transport and checks the PAN and CVV appear only in the
// payment_methods request body.
func TestStripeNoCardOutsideBody(t *testing.T) {
	const pan, cvv = "4000000000000002", "321"
	d := newStripeDouble()
	d.piStatus = 402
	d.piBody = `{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined."}}`
	srv := httptest.NewServer(d)
	defer srv.Close()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	gw := NewStripe(Config{Kind: "stripe", APIKey: "sk_test_x1234", BaseURL: srv.URL, Currency: "GBP"})
	var headers bytes.Buffer
	gw.Client.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		fmt.Fprintf(&headers, "%s %s %v\n", r.Method, r.URL, r.Header)
		return http.DefaultTransport.RoundTrip(r)
	})
	c := completeCapture(t, pan, cvv)
	req := testRequest(c)
	logger.Debug("charging", "req", req)
	res, err := gw.Charge(context.Background(), req)
	logger.Info("charged", "res", res, "err", err, "req", req)
	c.Wipe()
	if err != nil || res.Approved || res.DeclineReason != "card declined" {
		t.Fatalf("%+v %v", res, err)
	}
	assertNoCard(t, logs.String()+headers.String()+fmt.Sprint(res), pan, cvv)
	if !strings.Contains(d.bodies["/v1/payment_methods"], "card%5Bnumber%5D="+pan) || !strings.Contains(d.bodies["/v1/payment_methods"], "card%5Bcvc%5D="+cvv) {
		t.Error("card not in the payment_methods body")
	}
	assertNoCard(t, d.bodies["/v1/payment_intents"], pan, cvv)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestScrubDigits(t *testing.T) {
	cases := map[string]string{
		"card 4242424242424242 bad": "card [redacted] bad",
		"4242 4242 4242 4242":       "[redacted]",
		"code 12345 ok":             "code 12345 ok",
		"HTTP 402":                  "HTTP 402",
		"a 1234-5678-9012 b":        "a [redacted] b",
	}
	for in, want := range cases {
		if got := scrubDigits(in); got != want {
			t.Errorf("scrubDigits(%q) = %q, want %q", in, got, want)
		}
	}
}
