package api_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/pgtest"
)

// createdPhone is the answer to POST /admin/phones.
type createdPhone struct {
	postgres.Phone
	Secret       string `json:"secret"`
	Provisioning struct {
		Server, Transport, User, AuthUser, Realm, Secret, Text string
		Port                                                   int
	} `json:"provisioning"`
}

// realtimeDB is the database gorm is connected to, as Asterisk's
// res_config_pgsql reaches it (the test cluster's password included).
func realtimeDB(t testing.TB, db *gorm.DB) *aritest.RealtimeDB {
	t.Helper()
	rt, err := aritest.ParseRealtimeDSN(pgtest.DSNOfDB(t, db))
	if err != nil {
		t.Fatal(err)
	}
	return &rt
}

// sipRegister sends one REGISTER as user with secret from its own UA and
// reports the outcome (nil: 200 OK); keep leaves the registration in place.
func sipRegister(ast *aritest.Asterisk, user, secret string, keep bool) error {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(user))
	if err != nil {
		return err
	}
	defer ua.Close()
	dg := diago.NewDiago(ua, diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1", BindPort: 0}))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	uri := sip.Uri{User: user, Host: "127.0.0.1", Port: ast.SIPPort}
	for try := 0; ; try++ {
		rt, err := dg.RegisterTransaction(ctx, uri, diago.RegisterOptions{Username: user, Password: secret, Expiry: 120 * time.Second})
		if err == nil {
			if err = rt.Register(ctx); err == nil {
				if !keep {
					rt.Unregister(ctx)
				}
				return nil
			}
		}
		// diago's port-0 bind sometimes races; that is not a refusal.
		if try == 20 || !strings.Contains(err.Error(), "address already in use") {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func contactsOf(db *gorm.DB, ext string) int64 {
	var n int64
	db.Raw(`SELECT count(*) FROM ps_contacts WHERE endpoint = ?`, ext).Scan(&n)
	return n
}

// TestAsteriskPhonesFromAPI (issue 12 acceptance): 50 phones created
// through the admin API register to a real Asterisk 22 that reads them from
// ctid's Postgres, each with its own secret; one phone's secret does not
// register another's extension; a call reaches each of five of them; the
// static pjsip.conf phones still register beside them. Then, on the running
// Asterisk with no reload: a new phone registers at once, a secret reset
// drops its registration and refuses the old secret, a disabled user's
// phone and a deleted phone are refused, and bad input gets clear 4xx.
func TestAsteriskPhonesFromAPI(t *testing.T) {
	e := newEnv(t, envOptions{})
	root := e.login("root")
	const n = 50
	secrets := map[string]string{}
	for i := 0; i < n; i++ {
		ext := strconv.Itoa(2100 + i)
		var p createdPhone
		e.must(201, "POST", "/api/v1/admin/phones", root, fmt.Sprintf(`{"extension":%q,"label":"Desk %d"}`, ext, i)).json(t, &p)
		if p.Secret == "" || p.Provisioning.Secret != p.Secret || p.Provisioning.User != ext || p.Provisioning.Realm != postgres.PhoneRealm ||
			!strings.Contains(p.Provisioning.Text, p.Secret) {
			t.Fatalf("create answer %+v", p)
		}
		if _, dup := secrets[p.Secret]; dup {
			t.Fatal("two phones got the same secret")
		}
		secrets[ext] = p.Secret
	}
	// The secret is shown once: never in a list or a read, never stored in clear.
	lst := e.must(200, "GET", "/api/v1/admin/phones", root, "")
	for _, s := range secrets {
		if strings.Contains(string(lst.body), s) {
			t.Fatal("a secret appears in the phone list")
		}
		var hits int64
		e.DB.Raw(`SELECT count(*) FROM ps_auths WHERE password = ? OR md5_cred = ?`, s, s).Scan(&hits)
		if hits != 0 {
			t.Fatal("a secret is stored in clear")
		}
	}

	ast := aritest.StartAsteriskWith(t, aritest.AsteriskOptions{Realtime: realtimeDB(t, e.DB)})
	start := time.Now()
	phones := map[string]*sipphone.Phone{}
	for i := 0; i < n; i++ {
		ext := strconv.Itoa(2100 + i)
		phones[ext] = sipphone.NewPhone(t, ast, ext, sipphone.WithAuth(ext, secrets[ext]))
	}
	t.Logf("%d phones from Postgres registered (ARI online) in %v", n, time.Since(start).Round(time.Millisecond))
	sipphone.NewPhone(t, ast, "1001") // a static pjsip.conf phone, beside them
	if got := contactsOf(e.DB, "2100"); got != 1 {
		t.Fatalf("ps_contacts rows for 2100: %d", got)
	}

	// One phone's secret does not register another's extension.
	if err := sipRegister(ast, "2101", secrets["2100"], false); err == nil {
		t.Fatal("2101 registered with 2100's secret")
	}
	if err := sipRegister(ast, "2101", "", false); err == nil {
		t.Fatal("2101 registered with no secret")
	}

	// A call reaches each of five of them.
	for _, ext := range []string{"2100", "2112", "2125", "2137", "2149"} {
		if out, err := ast.CLI("channel originate PJSIP/" + ext + " application Milliwatt o"); err != nil {
			t.Fatalf("originate to %s: %v %s", ext, err, out)
		}
		call := phones[ext].NextCall(15 * time.Second)
		call.WaitAnswered(10 * time.Second)
		call.WaitHears(1000, 10*time.Second) // Milliwatt: a 1 kHz tone
		if ext == "2149" {
			// Deleted mid-call: the call carries on; the phone cannot register again.
			var all []postgres.Phone
			e.must(200, "GET", "/api/v1/admin/phones", root, "").json(t, &all)
			for _, p := range all {
				if p.Extension == ext {
					e.must(204, "DELETE", fmt.Sprintf("/api/v1/admin/phones/%d", p.ID), root, "")
				}
			}
			for _, l := range call.Listen(2 * time.Second) { // the two seconds after the delete
				if !l.Hears(1000) {
					t.Errorf("after the delete the call on %s hears %v", ext, l)
				}
			}
			select {
			case <-call.Ended():
				t.Fatal("the call on a deleted phone ended")
			default:
			}
			defer func() {
				if err := sipRegister(ast, ext, secrets[ext], false); err == nil {
					t.Error("a deleted phone registered again")
				}
			}()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		call.Hangup(ctx)
		cancel()
	}

	// On the running Asterisk, with no reload: a new phone, assigned to bob.
	var p2 createdPhone
	e.must(201, "POST", "/api/v1/admin/phones", root, fmt.Sprintf(`{"extension":"2200","userId":%d,"codecs":["alaw","ulaw"]}`, e.ids["bob"])).json(t, &p2)
	if err := sipRegister(ast, "2200", p2.Secret, true); err != nil {
		t.Fatalf("new phone 2200: %v", err)
	}
	if got := contactsOf(e.DB, "2200"); got != 1 {
		t.Fatalf("ps_contacts rows for 2200: %d", got)
	}
	// A secret reset drops the registration; the old secret is refused.
	var p3 createdPhone
	e.must(200, "POST", fmt.Sprintf("/api/v1/admin/phones/%d/secret", p2.ID), root, "").json(t, &p3)
	if p3.Secret == "" || p3.Secret == p2.Secret {
		t.Fatalf("reset gave %q", p3.Secret)
	}
	if got := contactsOf(e.DB, "2200"); got != 0 {
		t.Fatalf("ps_contacts rows for 2200 after the reset: %d", got)
	}
	if err := sipRegister(ast, "2200", p2.Secret, false); err == nil {
		t.Fatal("the old secret still registers")
	}
	if err := sipRegister(ast, "2200", p3.Secret, false); err != nil {
		t.Fatalf("the new secret: %v", err)
	}
	if r := e.must(200, "GET", fmt.Sprintf("/api/v1/admin/phones/%d", p2.ID), root, ""); strings.Contains(string(r.body), p3.Secret) {
		t.Fatal("a read shows the secret")
	}
	// bob disabled: his phone is refused at registration; enabled again, it works.
	e.must(200, "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", e.ids["bob"]), root, `{"disabled":true}`)
	if err := sipRegister(ast, "2200", p3.Secret, false); err == nil {
		t.Fatal("a disabled user's phone registered")
	}
	e.must(200, "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", e.ids["bob"]), root, `{"disabled":false}`)
	if err := sipRegister(ast, "2200", p3.Secret, false); err != nil {
		t.Fatalf("re-enabled user's phone: %v", err)
	}
	// A disabled phone is refused; a deleted one too.
	e.must(200, "PATCH", fmt.Sprintf("/api/v1/admin/phones/%d", p2.ID), root, `{"disabled":true}`)
	if err := sipRegister(ast, "2200", p3.Secret, false); err == nil {
		t.Fatal("a disabled phone registered")
	}
	e.must(204, "DELETE", fmt.Sprintf("/api/v1/admin/phones/%d", p2.ID), root, "")
	if err := sipRegister(ast, "2200", p3.Secret, false); err == nil {
		t.Fatal("a deleted phone registered")
	}

	// Bad input: clear 4xx, nothing written.
	for _, c := range []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"POST", "/api/v1/admin/phones", `{"extension":"2100"}`, 409, "extension"},
		{"POST", "/api/v1/admin/phones", `{"extension":"12a"}`, 400, "extension"},
		{"POST", "/api/v1/admin/phones", `{}`, 400, "extension"},
		{"POST", "/api/v1/admin/phones", `{"extension":"2300","userId":999999}`, 400, "userId"},
		{"POST", "/api/v1/admin/phones", `{"extension":"2300","kind":"fax"}`, 400, "kind"},
		{"POST", "/api/v1/admin/phones", `{"extension":"2300","codecs":["opus9"]}`, 400, "codecs"},
		{"PATCH", fmt.Sprintf("/api/v1/admin/phones/%d", p2.ID), `{"label":"x"}`, 404, ""},
	} {
		r := e.must(c.status, c.method, c.path, root, c.body)
		p := r.problem(t)
		if c.field != "" && !strings.Contains(string(r.body), c.field) {
			t.Errorf("%s %s: problem does not name %s: %+v", c.method, c.body, c.field, p)
		}
	}
	var count int64
	e.DB.Raw(`SELECT count(*) FROM phones WHERE extension = '2300'`).Scan(&count)
	if count != 0 {
		t.Fatal("a refused phone was written")
	}
	// Agents may not manage phones.
	e.must(403, "GET", "/api/v1/admin/phones", e.login("alice"), "")
	for _, l := range strings.Split(ast.Logs(), "\n") {
		for _, s := range secrets {
			if strings.Contains(l, s) {
				t.Fatal("Asterisk logged a secret")
			}
		}
	}
}

// BenchmarkAsteriskRealtimeRegister500 registers 500 phones read from
// Postgres (20 at a time, each its own UA and secret) and reports the wall
// time and the Asterisk CPU it cost (utime+stime from /proc).
func BenchmarkAsteriskRealtimeRegister500(b *testing.B) {
	for it := 0; it < b.N; it++ {
		e := newEnv(b, envOptions{})
		adm := postgres.NewAdmin(e.DB)
		ctx := context.Background()
		const n = 500
		secrets := make([]string, n)
		for i := range secrets {
			ext := strconv.Itoa(3000 + i)
			_, s, err := adm.CreatePhone(ctx, postgres.PhoneInput{Extension: &ext})
			if err != nil {
				b.Fatal(err)
			}
			secrets[i] = s
		}
		ast := aritest.StartAsteriskWith(b, aritest.AsteriskOptions{Realtime: realtimeDB(b, e.DB)})
		cpu0 := procCPU(b, ast.PID())
		b.ResetTimer()
		start := time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 20)
		var mu sync.Mutex
		var fails int
		for i := 0; i < n; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				if err := sipRegister(ast, strconv.Itoa(3000+i), secrets[i], true); err != nil {
					mu.Lock()
					fails++
					mu.Unlock()
				}
			}(i)
		}
		wg.Wait()
		wall := time.Since(start)
		b.StopTimer()
		cpu := procCPU(b, ast.PID()) - cpu0
		var rows int64
		e.DB.Raw(`SELECT count(*) FROM ps_contacts`).Scan(&rows)
		b.ReportMetric(wall.Seconds(), "s/500-registrations")
		b.ReportMetric(cpu.Seconds(), "asterisk-cpu-s")
		b.Logf("500 phones from Postgres: %v wall, Asterisk CPU %v (%.0f%% of one core), %d failed, %d ps_contacts rows",
			wall.Round(time.Millisecond), cpu.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds(), fails, rows)
		if fails > 0 {
			b.Errorf("%d registrations failed", fails)
		}
	}
}

// procCPU is a process's user+system CPU time so far.
func procCPU(t testing.TB, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}
