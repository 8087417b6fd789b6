package api_test

import (
	"fmt"
	"testing"
)

// Item 8: usernames are case-insensitive and NFKC-normalised, and may not
// hold control, invisible or bidi characters or mix alphabets.
func TestUsernamesAreCaseInsensitiveAndPlain(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	for _, name := range []string{"ADMIN", "Root", "ｒｏｏｔ"} { // root exists
		if name == "ADMIN" {
			e.must(201, "POST", "/api/v1/admin/users", root, `{"username":"admin","password":"a-long-password-1","role":"agent"}`)
		}
		e.must(409, "POST", "/api/v1/admin/users", root, fmt.Sprintf(`{"username":%q,"password":"a-long-password-1"}`, name))
	}
	for _, name := range []string{"\u0430dmin", "ad\u200bmin", "adm\nin", "ad min", "admin\u202e", "\u0085x"} {
		p := e.must(400, "POST", "/api/v1/admin/users", root, fmt.Sprintf(`{"username":%q,"password":"a-long-password-1"}`, name)).problem(t)
		if p.Field != "username" {
			t.Errorf("%q: field %q", name, p.Field)
		}
	}
	e.must(201, "POST", "/api/v1/admin/users", root, `{"username":"José.García@example","password":"a-long-password-1"}`)
	e.must(201, "POST", "/api/v1/admin/users", root, `{"username":"дмитрий","password":"a-long-password-1"}`)
	// Logins find the user whatever the case or width typed.
	for _, typed := range []string{"ALICE", "Alice", "ａｌｉｃｅ"} {
		e.must(200, "POST", "/api/v1/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, typed, password))
	}
}
