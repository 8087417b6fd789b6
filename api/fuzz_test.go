package api_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

var fuzzPaths = []string{
	"POST /api/v1/auth/login",
	"POST /api/v1/agent/login",
	"POST /api/v1/agent/connect",
	"POST /api/v1/agent/ready",
	"POST /api/v1/agent/pause",
	"POST /api/v1/agent/logout",
	"POST /api/v1/agent/calls",
	"POST /api/v1/agent/hangup",
	"PUT /api/v1/agent/calls/x/notes",
	"POST /api/v1/agent/wrap",
	"POST /api/v1/agent/wrap/extend",
	"POST /api/v1/admin/campaigns",
	"POST /api/v1/admin/users",
	"PATCH /api/v1/admin/users/2",
	"POST /api/v1/admin/pause-reasons",
	"POST /api/v1/admin/workflows",
	"POST /api/v1/agent/decline",
}

// FuzzAgentAPI posts arbitrary bodies to the JSON endpoints as an agent and
// as an admin: the server must never panic or answer 500.
func FuzzAgentAPI(f *testing.F) {
	for i := range fuzzPaths {
		f.Add(uint8(i), `{}`)
	}
	f.Add(uint8(2), `{"mode":"system_calls","number":"1001","persistent":true}`)
	f.Add(uint8(6), `{"number":"07700 900123","campaignId":1}`)
	f.Add(uint8(9), `{"code":"SALE","next":"paused","reason":"Break","notes":"x"}`)
	f.Add(uint8(11), `{"name":"C","dids":["1"],"wrapCodes":[{"code":"A"}],"settings":{"a":[1]}}`)
	f.Add(uint8(12), `{"username":"x","password":"password1","role":"admin","campaignIds":[1,2]}`)
	f.Add(uint8(0), `{"username":"alice","password":"`+password+`"}`)
	e := newEnv(f, envOptions{})
	agentTok, adminTok := e.login("alice"), e.login("root")
	e.must(200, "POST", "/api/v1/agent/login", agentTok, "")
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		method, path, _ := strings.Cut(fuzzPaths[int(which)%len(fuzzPaths)], " ")
		tok := agentTok
		if strings.Contains(path, "/admin/") {
			tok = adminTok
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := e.srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode >= 500 && res.StatusCode != 503 {
			t.Fatalf("%s %s %q → %d", method, path, body, res.StatusCode)
		}
	})
}
