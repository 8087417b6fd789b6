package postgres_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ctid/ctid/cti/postgres"
)

// wsSIP is a minimal SIP-over-WebSocket UA (RFC 7118), what a browser
// phone library (JsSIP, SIP.js) sends, enough to REGISTER with digest auth
// and read the INVITE Asterisk sends.
type wsSIP struct {
	t    *testing.T
	c    *websocket.Conn
	user string
	host string
}

func dialWS(t *testing.T, port int, user string) *wsSIP {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"sip"}, HandshakeTimeout: 10 * time.Second}
	c, res, err := d.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", port), http.Header{})
	if err != nil {
		t.Fatalf("websocket /ws: %v (%v)", err, res)
	}
	t.Cleanup(func() { c.Close() })
	return &wsSIP{t: t, c: c, user: user, host: "127.0.0.1"}
}

func (w *wsSIP) read(timeout time.Duration) string {
	w.t.Helper()
	w.c.SetReadDeadline(time.Now().Add(timeout))
	_, b, err := w.c.ReadMessage()
	if err != nil {
		w.t.Fatalf("read SIP over websocket: %v", err)
	}
	return string(b)
}

var authParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// register sends REGISTER, answers the digest challenge with secret and
// returns the final status line.
func (w *wsSIP) register(secret string) string {
	w.t.Helper()
	send := func(cseq int, auth string) {
		msg := fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/WS abc.invalid;branch=z9hG4bK%d%d\r\nMax-Forwards: 70\r\n"+
			"To: <sip:%s@%s>\r\nFrom: <sip:%s@%s>;tag=t1\r\nCall-ID: reg-%s\r\nCSeq: %d REGISTER\r\n"+
			"Contact: <sip:%s@abc.invalid;transport=ws>;expires=120\r\nExpires: 120\r\n%sContent-Length: 0\r\n\r\n",
			w.host, time.Now().UnixNano(), cseq, w.user, w.host, w.user, w.host, w.user, cseq, w.user, auth)
		if err := w.c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			w.t.Fatal(err)
		}
	}
	send(1, "")
	res := w.read(10 * time.Second)
	if !strings.HasPrefix(res, "SIP/2.0 401") {
		return strings.SplitN(res, "\r\n", 2)[0]
	}
	p := map[string]string{}
	for _, l := range strings.Split(res, "\r\n") {
		if strings.HasPrefix(strings.ToLower(l), "www-authenticate:") {
			for _, m := range authParam.FindAllStringSubmatch(l, -1) {
				p[m[1]] = m[2]
			}
			break
		}
	}
	h := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	uri := "sip:" + w.host
	ha1 := h(w.user + ":" + p["realm"] + ":" + secret)
	resp := h(ha1 + ":" + p["nonce"] + ":" + h("REGISTER:"+uri))
	send(2, fmt.Sprintf("Authorization: Digest username=%q, realm=%q, nonce=%q, uri=%q, response=%q, algorithm=MD5, opaque=%q\r\n",
		w.user, p["realm"], p["nonce"], uri, resp, p["opaque"]))
	return strings.SplitN(w.read(10*time.Second), "\r\n", 2)[0]
}

// TestAsteriskBrowserPhoneWebsocket: a browser phone (kind browser, from
// the database) registers over SIP-over-WebSocket with its own secret,
// another secret is refused, and Asterisk calls it with a WebRTC offer
// (DTLS-SRTP over ICE with a certificate fingerprint: webrtc=yes).
func TestAsteriskBrowserPhoneWebsocket(t *testing.T) {
	ctx := context.Background()
	ext, kind := "2501", postgres.PhoneBrowser
	var secret string
	ast, _, _ := startRealtimeAsterisk(t, func(adm *postgres.Admin) {
		var err error
		if _, secret, err = adm.CreatePhone(ctx, postgres.PhoneInput{Extension: &ext, Kind: &kind}); err != nil {
			t.Fatal(err)
		}
	})
	if st := dialWS(t, ast.HTTPPort, ext).register("wrong-secret"); strings.Contains(st, " 200 ") {
		t.Fatalf("a wrong secret registered: %s", st)
	}
	w := dialWS(t, ast.HTTPPort, ext)
	if st := w.register(secret); !strings.Contains(st, " 200 ") {
		t.Fatalf("browser phone REGISTER over websocket: %s", st)
	}
	if out, err := ast.CLI("channel originate PJSIP/" + ext + " application Milliwatt o"); err != nil {
		t.Fatalf("originate: %v %s", err, out)
	}
	var invite string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		if m := w.read(15 * time.Second); strings.HasPrefix(m, "INVITE ") {
			invite = m
			break
		}
	}
	for _, want := range []string{"UDP/TLS/RTP/SAVPF", "a=fingerprint:", "a=ice-ufrag:", "a=setup:actpass", "a=rtcp-mux"} {
		if !strings.Contains(invite, want) {
			t.Errorf("INVITE to the browser phone lacks %q:\n%s", want, invite)
		}
	}
}
