package api_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/ctid/ctid/api"
)

// closedWith waits for the server to close the websocket and returns the
// close code.
func closedWith(t *testing.T, c *wsClient) int {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case _, ok := <-c.msgs:
			if ok {
				continue
			}
			var ce *websocket.CloseError
			if !errors.As(c.err, &ce) {
				t.Fatalf("websocket ended without a close frame: %v", c.err)
			}
			return ce.Code
		case <-deadline:
			t.Fatal("the websocket outlived its session")
		}
	}
}

func dialTicket(e *env, ticket string) (*websocket.Conn, int, error) {
	u := "ws" + strings.TrimPrefix(e.base, "http") + "/api/v1/ws?ticket=" + ticket
	conn, res, err := websocket.DefaultDialer.Dial(u, nil)
	code := 0
	if res != nil {
		code = res.StatusCode
	}
	return conn, code, err
}

// Item 2: a websocket lives no longer than its session, and closes with
// 4001 (the adaptor's "log in again") when the session ends by logout,
// password change, disable, expiry or revocation elsewhere; tickets are
// voided with their session.
func TestWebsocketsEndWithTheirSession(t *testing.T) {
	e := newEnv(t, envOptions{heartbeat: 50 * time.Millisecond})
	root := e.login("root")

	t.Run("logout", func(t *testing.T) {
		tok := e.login("alice")
		ws := e.dialWS(tok, 0)
		ws.next("hello")
		other := e.dialWS(e.login("alice"), 0) // another session of alice's stays
		other.next("hello")
		unused := e.ticket(tok)
		e.must(204, "POST", "/api/v1/auth/logout", tok, "")
		if code := closedWith(t, ws); code != 4001 {
			t.Fatalf("close code %d, want 4001", code)
		}
		if _, code, err := dialTicket(e, unused); err == nil || code != 401 {
			t.Fatalf("a ticket issued before logout opened a socket: %v %d", err, code)
		}
		other.next("ping")
	})
	t.Run("password change", func(t *testing.T) {
		ws := e.dialWS(e.login("alice"), 0)
		ws.next("hello")
		e.must(200, "PATCH", "/api/v1/admin/users/"+strconv.FormatInt(e.ids["alice"], 10), root, `{"password":"another-password-2"}`)
		if code := closedWith(t, ws); code != 4001 {
			t.Fatalf("close code %d", code)
		}
	})
	t.Run("disable", func(t *testing.T) {
		ws := e.dialWS(e.login("bob"), 0)
		ws.next("hello")
		e.must(204, "DELETE", "/api/v1/admin/users/"+strconv.FormatInt(e.ids["bob"], 10), root, "")
		if code := closedWith(t, ws); code != 4001 {
			t.Fatalf("close code %d", code)
		}
	})
	t.Run("revoked through another instance", func(t *testing.T) {
		ws := e.dialWS(e.login("sue"), 0)
		ws.next("hello")
		if err := e.DB.Exec(`UPDATE auth_sessions SET revoked_at = now() WHERE user_id = ?`, e.ids["sue"]).Error; err != nil {
			t.Fatal(err)
		}
		if code := closedWith(t, ws); code != 4001 {
			t.Fatalf("close code %d", code)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		ws := e.dialWS(e.login("sue"), 0)
		ws.next("hello")
		e.clock.Add(13 * time.Hour) // past the 12 h token lifetime
		if code := closedWith(t, ws); code != 4001 {
			t.Fatalf("close code %d", code)
		}
	})
}

// Item 7: at most MaxWebsocketsPerUser sockets per user; a closed one frees
// its place.
func TestWebsocketsPerUserAreLimited(t *testing.T) {
	e := newEnv(t, envOptions{tune: func(o *api.Options) { o.MaxWebsocketsPerUser = 2 }})
	tok := e.login("alice")
	a := e.dialWS(tok, 0)
	a.next("hello")
	e.dialWS(tok, 0).next("hello")
	if _, code, err := dialTicket(e, e.ticket(tok)); err == nil || code != 429 {
		t.Fatalf("third websocket: %v %d, want 429", err, code)
	}
	e.dialWS(e.login("bob"), 0).next("hello") // others are not affected
	a.conn.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, code, err := dialTicket(e, e.ticket(tok))
		if err == nil {
			conn.Close()
			return
		}
		if code != 429 || time.Now().After(deadline) {
			t.Fatalf("after closing one: %v %d", err, code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
