package payment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctid/ctid/cti/ctitest/testenv"
)

// startStripeMock runs stripe-mock on a free loopback port and returns its
// base URL.
func startStripeMock(t *testing.T) string {
	t.Helper()
	bin, err := testenv.StripeMock()
	if err != nil {
		t.Skip(err)
	}
	// Both listeners get explicit free ports (stripe-mock otherwise also
	// binds HTTPS on :12112).
	addr, addrTLS := freeAddr(t), freeAddr(t)
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "-http-addr", addr, "-https-addr", addrTLS)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("stripe-mock exited: %v\n%s", err, out.String())
		default:
		}
		resp, err := http.Get(base + "/v1/charges")
		if err == nil {
			resp.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock did not start on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestStripeMock sends real requests to stripe-mock, which validates every
// parameter against Stripe's OpenAPI specification (it answers with
// fixtures, so the outcome itself is not meaningful: its payment intent
// fixture has status requires_payment_method).
func TestStripeMock(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	base := startStripeMock(t)
	for _, moto := range []bool{false, true} {
		gw, err := New(Config{Kind: KindStripe, APIKey: "sk_test_123", BaseURL: base, Currency: "GBP", MOTO: moto})
		if err != nil {
			t.Fatal(err)
		}
		c := completeCapture(t, "4242424242424242", "123")
		res, err := gw.Charge(context.Background(), testRequest(c))
		c.Wipe()
		if err != nil {
			t.Fatalf("moto=%t: stripe-mock refused the request: %v", moto, err)
		}
		if !strings.HasPrefix(res.Reference, "pi_") || res.CardLast4 != "4242" {
			t.Errorf("moto=%t: result %+v", moto, res)
		}
		t.Logf("moto=%t: stripe-mock answer: %+v", moto, res)
	}
	// Amex with a 4-digit CVV and a name needing escaping.
	gw := NewStripe(Config{Kind: KindStripe, APIKey: "sk_test_123", BaseURL: base, Currency: "USD"})
	c := completeCapture(t, "378282246310005", "1234")
	req := testRequest(c)
	req.CardholderName = "Zoë O'Brien & Søn"
	req.Currency = "usd"
	if _, err := gw.Charge(context.Background(), req); err != nil {
		t.Fatalf("amex: %v", err)
	}
	c.Wipe()
	// The mock does validate: a malformed request is refused (so the
	// acceptance above means the encoding matches the specification).
	var obj stripeObject
	status, err := gw.post(context.Background(), "/v1/payment_methods", "k", []byte("type=card&card%5Bnumber%5D=4242&card%5Bbogus%5D=1"), &obj)
	if err != nil || status != 400 || obj.Error == nil {
		t.Fatalf("malformed request: status %d obj %+v err %v", status, obj, err)
	}
	// Wrong key: an error that wraps ErrGateway and holds no card data.
	gw = NewStripe(Config{Kind: KindStripe, APIKey: "nonsense", BaseURL: base, Currency: "GBP"})
	c = completeCapture(t, "4242424242424242", "123")
	_, err = gw.Charge(context.Background(), testRequest(c))
	c.Wipe()
	if !errors.Is(err, ErrGateway) {
		t.Fatalf("bad key: %v", err)
	}
	assertNoCard(t, fmt.Sprint(err), "4242424242424242", "123")
}
