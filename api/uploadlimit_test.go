package api_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// rawUpload sends only the headers of a 50 MB multipart upload and returns
// the status the server answers with before any of the body is sent (0:
// it is waiting for the body).
func rawUpload(t *testing.T, e *env, path, token string, wait time.Duration) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hdr := "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 52428800\r\n"
	if token != "" {
		hdr += "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := conn.Write([]byte(hdr + "\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// Item 3: the large upload limit is granted from the headers, before the
// body is read, only to an admin: anyone else's 50 MB upload is refused
// with 413 at once, without the server buffering it.
func TestLargeUploadsOnlyForAnAuthenticatedAdmin(t *testing.T) {
	e := newEnv(t, envOptions{})
	alice, root := e.login("alice"), e.login("root")
	for _, path := range []string{"/api/v1/admin/campaigns/1/leads", "/api/v1/admin/campaigns/1/announcements"} {
		for who, tok := range map[string]string{"anonymous": "", "bad token": "nope", "agent": alice} {
			if code := rawUpload(t, e, path, tok, 15*time.Second); code != 413 {
				t.Errorf("%s upload to %s: %d before the body was sent, want 413", who, path, code)
			}
		}
	}
	// An admin's upload is received (the server waits for the body).
	if code := rawUpload(t, e, "/api/v1/admin/campaigns/1/leads", root, 700*time.Millisecond); code != 0 {
		t.Errorf("admin upload answered %d before the body was sent", code)
	}
}
