package aritest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables read by StartAsterisk.
const (
	// EnvAsteriskBin names the asterisk binary (else "asterisk" on PATH).
	EnvAsteriskBin = "ASTERISK_BIN"
	// EnvAsteriskModDir overrides <prefix>/lib/asterisk/modules.
	EnvAsteriskModDir = "ASTERISK_MODDIR"
	// EnvAsteriskDataDir overrides <prefix>/var/lib/asterisk (sounds, moh).
	EnvAsteriskDataDir = "ASTERISK_DATADIR"
	// EnvRequireAsterisk=1 turns "no Asterisk found" from a skip into a failure.
	EnvRequireAsterisk = "CTID_REQUIRE_ASTERISK"
	// EnvAsteriskConf overrides the asterisk-conf/ template directory.
	EnvAsteriskConf = "CTID_ASTERISK_CONF"
)

// AsteriskInstall is where an Asterisk installation lives.
type AsteriskInstall struct {
	Bin, ModDir, DataDir string
}

// FindAsterisk locates Asterisk from ASTERISK_BIN or "asterisk" on PATH. The
// modules and data directories are derived from the binary's prefix
// (<prefix>/sbin/asterisk → <prefix>/lib/asterisk/modules and
// <prefix>/var/lib/asterisk) unless ASTERISK_MODDIR / ASTERISK_DATADIR are
// set. A binary installed under /usr uses /var/lib/asterisk.
func FindAsterisk() (AsteriskInstall, error) {
	bin := os.Getenv(EnvAsteriskBin)
	if bin == "" {
		p, err := exec.LookPath("asterisk")
		if err != nil {
			return AsteriskInstall{}, errors.New("no asterisk binary (ASTERISK_BIN unset and none on PATH)")
		}
		bin = p
	}
	if p, err := filepath.EvalSymlinks(bin); err == nil {
		bin = p
	}
	st, err := os.Stat(bin)
	if err != nil {
		return AsteriskInstall{}, fmt.Errorf("ASTERISK_BIN: %w", err)
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return AsteriskInstall{}, fmt.Errorf("ASTERISK_BIN %s is not an executable file", bin)
	}
	prefix := filepath.Dir(filepath.Dir(bin))
	in := AsteriskInstall{Bin: bin,
		ModDir:  filepath.Join(prefix, "lib", "asterisk", "modules"),
		DataDir: filepath.Join(prefix, "var", "lib", "asterisk"),
	}
	if prefix == "/usr" {
		in.DataDir = "/var/lib/asterisk"
		if _, err := os.Stat(in.ModDir); err != nil {
			if m, _ := filepath.Glob("/usr/lib/*/asterisk/modules"); len(m) > 0 {
				in.ModDir = m[0]
			}
		}
	}
	if v := os.Getenv(EnvAsteriskModDir); v != "" {
		in.ModDir = v
	}
	if v := os.Getenv(EnvAsteriskDataDir); v != "" {
		in.DataDir = v
	}
	if _, err := os.Stat(filepath.Join(in.ModDir, "res_ari.so")); err != nil {
		return in, fmt.Errorf("modules directory %s has no res_ari.so (set %s)", in.ModDir, EnvAsteriskModDir)
	}
	return in, nil
}

// ConfDir returns the asterisk-conf/ template directory of this repository
// (or CTID_ASTERISK_CONF).
func ConfDir() (string, error) {
	if v := os.Getenv(EnvAsteriskConf); v != "" {
		return v, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate asterisk-conf (set " + EnvAsteriskConf + ")")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "asterisk-conf")
	if _, err := os.Stat(filepath.Join(dir, "placeholders.env")); err != nil {
		return "", fmt.Errorf("asterisk-conf not found at %s (set %s)", dir, EnvAsteriskConf)
	}
	return filepath.Clean(dir), nil
}

// Asterisk is a real Asterisk started by StartAsterisk for one test, on free
// ports, from a rendered copy of asterisk-conf/.
type Asterisk struct {
	Install AsteriskInstall
	// Dir is the run root (etc/, log/, spool/ ... ); etc/asterisk.conf is the
	// configuration file.
	Dir string
	// User and Password are the generated ARI credentials.
	User, Password string
	// App is the Stasis application the dialplan uses ({{APP}}).
	App string
	// HTTPPort is Asterisk's HTTP (ARI) port; URL() goes through a proxy.
	HTTPPort, SIPPort, RTPStart, RTPEnd, TrunkPort int
	// phoneSecrets are the SIP passwords of the fixed test phones
	// (TestPhones), one of its own each.
	phoneSecrets map[string]string
	// Realtime is the database PJSIP phones are read from (nil: none).
	Realtime *RealtimeDB

	t     testing.TB
	proxy *wsProxy

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has exited
	logs    bytes.Buffer
	stopped bool
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// StartAsterisk starts a real Asterisk for the test and stops it on cleanup.
// When no Asterisk is found it skips the test ("skipped: no asterisk"),
// unless CTID_REQUIRE_ASTERISK=1, where it fails it.
func StartAsterisk(t testing.TB) *Asterisk {
	t.Helper()
	return StartAsteriskWith(t, AsteriskOptions{})
}

// AsteriskOptions change what StartAsteriskWith renders.
type AsteriskOptions struct {
	// Realtime, when set, also renders asterisk-conf/realtime/ (sorcery.conf,
	// extconfig.conf, res_pgsql.conf): PJSIP endpoints, auths and AORs are
	// then read from this database after pjsip.conf's, and registrations are
	// kept in its ps_contacts. The database must carry ctid's migrations
	// (e.g. pgtest.DSN). Without it res_config_pgsql loads unconfigured.
	Realtime *RealtimeDB
}

// RealtimeDB is the Postgres Asterisk's res_config_pgsql connects to.
type RealtimeDB struct {
	Host     string
	Port     int
	DB       string
	User     string
	Password string
}

// ParseRealtimeDSN reads a libpq DSN, key=value ("host=127.0.0.1 port=5432
// user=u dbname=d") or URL ("postgres://u:p@host:port/d"), as pgtest.DSN
// gives it.
func ParseRealtimeDSN(dsn string) (RealtimeDB, error) {
	r := RealtimeDB{Host: "127.0.0.1", Port: 5432}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return r, err
		}
		if h := u.Hostname(); h != "" {
			r.Host = h
		}
		if p := u.Port(); p != "" {
			if r.Port, err = strconv.Atoi(p); err != nil {
				return r, fmt.Errorf("dsn port: %w", err)
			}
		}
		r.DB = strings.TrimPrefix(u.Path, "/")
		r.User = u.User.Username()
		r.Password, _ = u.User.Password()
	} else {
		for _, kv := range strings.Fields(dsn) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return r, fmt.Errorf("dsn: %q is not key=value", kv)
			}
			v = strings.Trim(v, "'")
			switch k {
			case "host":
				r.Host = v
			case "port":
				p, err := strconv.Atoi(v)
				if err != nil {
					return r, fmt.Errorf("dsn port: %w", err)
				}
				r.Port = p
			case "dbname":
				r.DB = v
			case "user":
				r.User = v
			case "password":
				r.Password = v
			}
		}
	}
	if r.DB == "" || r.User == "" {
		return r, errors.New("dsn: dbname and user are required")
	}
	if strings.ContainsAny(r.Host+r.DB+r.User+r.Password, " ;\n") {
		return r, errors.New("dsn: values with spaces, ';' or newlines cannot go into res_pgsql.conf")
	}
	return r, nil
}

// StartAsteriskWith is StartAsterisk with options (phones from a database).
func StartAsteriskWith(t testing.TB, opts AsteriskOptions) *Asterisk {
	t.Helper()
	in, err := FindAsterisk()
	if err != nil {
		if os.Getenv(EnvRequireAsterisk) == "1" {
			t.Fatalf("no asterisk, and %s=1: %v", EnvRequireAsterisk, err)
		}
		t.Skipf("skipped: no asterisk (set ASTERISK_BIN, or put asterisk on PATH; %v)", err)
	}
	conf, err := ConfDir()
	if err != nil {
		t.Fatal(err)
	}
	a, err := launchAsteriskWith(t, in, conf, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// launchAsterisk renders conf into a fresh run root and starts Asterisk on
// free loopback ports; it is stopped (and the run root removed unless the
// test failed) on cleanup.
func launchAsterisk(t testing.TB, in AsteriskInstall, conf string) (*Asterisk, error) {
	return launchAsteriskWith(t, in, conf, AsteriskOptions{})
}

func launchAsteriskWith(t testing.TB, in AsteriskInstall, conf string, opts AsteriskOptions) (*Asterisk, error) {
	// Short run root: the control socket path must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "ast")
	if err != nil {
		return nil, err
	}
	a := &Asterisk{Install: in, Dir: dir, t: t, User: "ctid", App: "ctid",
		Password: randHex(12), phoneSecrets: map[string]string{}}
	t.Cleanup(func() {
		a.stop()
		if a.proxy != nil {
			a.proxy.close()
		}
		// CTID_KEEP_ASTERISK=1 keeps it after a pass too (to read its log).
		if t.Failed() || os.Getenv("CTID_KEEP_ASTERISK") != "" {
			t.Logf("asterisk run directory kept: %s", dir)
			return
		}
		os.RemoveAll(dir)
	})
	if a.HTTPPort, err = freeTCPPort(); err != nil {
		return nil, err
	}
	if a.SIPPort, err = freeLowUDPPort(); err != nil {
		return nil, err
	}
	if a.TrunkPort, err = freeLowUDPPort(); err != nil {
		return nil, err
	}
	if a.RTPStart, a.RTPEnd, err = freeUDPRange(20); err != nil {
		return nil, err
	}
	vals := map[string]string{
		"HTTP_PORT": strconv.Itoa(a.HTTPPort), "SIP_PORT": strconv.Itoa(a.SIPPort),
		"RTP_START": strconv.Itoa(a.RTPStart), "RTP_END": strconv.Itoa(a.RTPEnd),
		"ARI_USER": a.User, "ARI_PASSWORD": a.Password,
		"APP": a.App, "ARI_BIND_ADDR": "127.0.0.1", "SIP_BIND_ADDR": "127.0.0.1", "TRUNK_HOST": "127.0.0.1",
		"TRUNK_PORT": strconv.Itoa(a.TrunkPort), "ASTDIR": dir,
		"MODDIR": in.ModDir, "DATADIR": in.DataDir,
	}
	if err := renderConf(conf, dir, vals); err != nil {
		return nil, err
	}
	if err := a.writeTestPhones(); err != nil {
		return nil, err
	}
	if rt := opts.Realtime; rt != nil {
		a.Realtime = rt
		rv := map[string]string{"PGSQL_HOST": rt.Host, "PGSQL_PORT": strconv.Itoa(rt.Port),
			"PGSQL_DB": rt.DB, "PGSQL_USER": rt.User, "PGSQL_PASSWORD": rt.Password}
		if err := renderConfFiles(filepath.Join(conf, "realtime"), dir, rv); err != nil {
			return nil, err
		}
	}
	if a.proxy, err = newWSProxy(fmt.Sprintf("127.0.0.1:%d", a.HTTPPort)); err != nil {
		return nil, err
	}
	if err := a.start(); err != nil {
		return a, fmt.Errorf("%v\n--- asterisk output ---\n%s", err, a.Logs())
	}
	return a, nil
}

// renderConf copies src/*.conf to dst/etc with {{NAME}} replaced and
// creates the run directories, like asterisk-conf/render.sh.
func renderConf(src, dst string, vals map[string]string) error {
	for _, d := range []string{"etc", "run", "log", "spool/recording", "spool/monitor", "lib/keys", "cache"} {
		if err := os.MkdirAll(filepath.Join(dst, d), 0o755); err != nil {
			return err
		}
	}
	return renderConfFiles(src, dst, vals)
}

// renderConfFiles writes src/*.conf to dst/etc with {{NAME}} replaced
// (a later call overwrites a file of the same name: realtime/ over the base).
func renderConfFiles(src, dst string, vals map[string]string) error {
	files, err := filepath.Glob(filepath.Join(src, "*.conf"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no *.conf in %s", src)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		s := string(b)
		for k, v := range vals {
			s = strings.ReplaceAll(s, "{{"+k+"}}", v)
		}
		if i := strings.Index(s, "{{"); i >= 0 {
			end := min(len(s), i+40)
			return fmt.Errorf("%s: unsubstituted placeholder near %q", filepath.Base(f), s[i:end])
		}
		if err := os.WriteFile(filepath.Join(dst, "etc", filepath.Base(f)), []byte(s), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ConfFile is the rendered asterisk.conf.
func (a *Asterisk) ConfFile() string { return filepath.Join(a.Dir, "etc", "asterisk.conf") }

// URL is the base URL of Asterisk's HTTP server (ARI under /ari). It goes
// through an in-process TCP proxy so DropWebsockets can cut the event
// websockets as a network failure would.
func (a *Asterisk) URL() string { return "http://" + a.proxy.addr() }

// DirectURL is Asterisk's HTTP server without the proxy.
func (a *Asterisk) DirectURL() string { return fmt.Sprintf("http://127.0.0.1:%d", a.HTTPPort) }

// DropWebsockets cuts every /ari/events websocket made through URL().
// Asterisk sees the TCP connection close.
func (a *Asterisk) DropWebsockets() { a.proxy.dropWebsockets() }

// Logs returns what Asterisk printed on its console so far (and, if any,
// its log/messages file).
func (a *Asterisk) Logs() string {
	a.mu.Lock()
	s := a.logs.String()
	a.mu.Unlock()
	return s
}

// CLI runs an Asterisk CLI command on the running instance (asterisk -rx).
func (a *Asterisk) CLI(command string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, a.Install.Bin, "-C", a.ConfFile(), "-rx", command).CombinedOutput()
	return string(out), err
}

// Restart stops Asterisk and starts it again on the same ports and
// directories (channels and bridges are lost, startup_time changes).
func (a *Asterisk) Restart() {
	a.t.Helper()
	a.stop()
	a.mu.Lock()
	a.stopped = false
	fmt.Fprintf(&a.logs, "\n--- aritest: restart at %s ---\n", time.Now().Format(time.RFC3339Nano))
	a.mu.Unlock()
	if err := a.start(); err != nil {
		a.t.Fatalf("restart: %v\n--- asterisk output ---\n%s", err, a.Logs())
	}
}

// Kill ends Asterisk with SIGKILL, as a crash would: no BYE reaches the
// phones and nothing is cleaned up (Restart starts it again on the same
// ports and directories).
func (a *Asterisk) Kill() {
	a.mu.Lock()
	cmd, done, stopped := a.cmd, a.done, a.stopped
	a.stopped = true
	fmt.Fprintf(&a.logs, "\n--- aritest: SIGKILL at %s ---\n", time.Now().Format(time.RFC3339Nano))
	a.mu.Unlock()
	if cmd == nil || stopped {
		return
	}
	cmd.Process.Kill()
	<-done
	if a.proxy != nil {
		a.proxy.dropAll()
	}
}

func (a *Asterisk) start() error {
	a.mu.Lock()
	from := a.logs.Len() // this start's output begins here
	a.mu.Unlock()
	cmd := exec.Command(a.Install.Bin, "-f", "-n", "-C", a.ConfFile())
	cmd.Dir = a.Dir
	w := lockedWriter{&a.mu, &a.logs}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.Stdin = nil
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", a.Install.Bin, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	a.mu.Lock()
	a.cmd, a.done = cmd, done
	a.mu.Unlock()

	// Wait until ARI answers (the "Asterisk Ready." banner is printed even
	// when the HTTP port could not be bound).
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("asterisk exited during start-up: %v", cmd.ProcessState)
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, a.DirectURL()+"/ari/asterisk/info", nil)
		req.SetBasicAuth(a.User, a.Password)
		resp, err := hc.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return a.checkStartup(from, done)
			}
			err = fmt.Errorf("GET /ari/asterisk/info: %s", resp.Status)
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	a.stop()
	return fmt.Errorf("asterisk did not answer ARI within 60s: %v", last)
}

// checkStartup waits for the "Asterisk Ready." banner of the start whose
// output begins at offset from, then fails on any ERROR line Asterisk logged
// while starting: asterisk-conf/ loads only what ctid uses and configures all
// of it, so an ERROR at start-up is a configuration that broke (a module
// renamed, a file missing, a bad option), and tests should say so at once
// rather than fail later in a stranger way.
func (a *Asterisk) checkStartup(from int, done <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		a.mu.Lock()
		out := a.logs.String()[from:]
		a.mu.Unlock()
		if strings.Contains(out, "Asterisk Ready.") {
			var bad []string
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "ERROR[") {
					bad = append(bad, stripANSI(line))
				}
			}
			if len(bad) > 0 {
				return fmt.Errorf("asterisk logged %d ERROR line(s) at start-up:\n%s", len(bad), strings.Join(bad, "\n"))
			}
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("asterisk exited during start-up")
		default:
		}
		if time.Now().After(deadline) {
			return errors.New("asterisk answered ARI but never printed \"Asterisk Ready.\" within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stripANSI removes the terminal colour codes Asterisk's console adds.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < '@' || s[j] > '~') {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// stop ends the process: SIGTERM, then SIGKILL after 5 s.
func (a *Asterisk) stop() {
	a.mu.Lock()
	cmd, done, stopped := a.cmd, a.done, a.stopped
	a.stopped = true
	a.mu.Unlock()
	if cmd == nil || stopped {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	if a.proxy != nil {
		a.proxy.dropAll()
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeLowUDPPort finds a free UDP port below the RTP ranges and Linux's
// ephemeral range (10000-19999). The trunk's port is bound by the test's
// carrier seconds after Asterisk starts, and one drawn from the ephemeral
// range was taken in between by a SIP phone's or another test's socket
// (a run of the desk tests: "carrier: listen on 127.0.0.1:59640: bind: address
// already in use").
func freeLowUDPPort() (int, error) {
	p, _, err := freeUDPPorts(10000, 10000, 1)
	return p, err
}

// freeUDPRange finds n consecutive free UDP ports starting at an even port
// in 20000-31999. Below Linux's ephemeral range (32768-60999): the SIP
// phones' RTP sockets and every other test's listeners get ephemeral
// ports, and one landing in a running Asterisk's RTP range later left a
// call with no media (seen once in CI: a phone heard 0 packets).
func freeUDPRange(n int) (int, int, error) { return freeUDPPorts(20000, 12000, n) }

// freeUDPPorts draws an even start in [base, base+span) until its n
// consecutive UDP ports are all free, and returns the first and the last.
func freeUDPPorts(base, span, n int) (int, int, error) {
	var b [2]byte
	for try := 0; try < 200; try++ {
		rand.Read(b[:])
		start := base + (int(b[0])<<8|int(b[1]))%span&^1
		ok := true
		var open []net.PacketConn
		for p := start; p < start+n; p++ {
			c, err := net.ListenPacket("udp", fmt.Sprintf("0.0.0.0:%d", p))
			if err != nil {
				ok = false
				break
			}
			open = append(open, c)
		}
		for _, c := range open {
			c.Close()
		}
		if ok {
			return start, start + n - 1, nil
		}
	}
	return 0, 0, fmt.Errorf("no %d free UDP ports in %d-%d", n, base, base+span-1)
}

// wsProxy is a TCP proxy in front of Asterisk's HTTP port that can cut the
// connections that carry /ari/events websockets.
type wsProxy struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	conns   map[net.Conn]bool // client conn → is websocket
	closed  bool
}

func newWSProxy(backend string) (*wsProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &wsProxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	go p.serve()
	return p, nil
}

func (p *wsProxy) addr() string { return p.ln.Addr().String() }

func (p *wsProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *wsProxy) handle(c net.Conn) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c] = false
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	b, err := net.DialTimeout("tcp", p.backend, 5*time.Second)
	if err != nil {
		return
	}
	defer b.Close()
	go func() {
		io.Copy(c, b)
		c.Close()
	}()
	// Client → backend; mark the connection when a request line targets
	// the events websocket.
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if bytes.HasPrefix(buf[:n], []byte("GET /ari/events")) {
				p.mu.Lock()
				p.conns[c] = true
				p.mu.Unlock()
			}
			if _, werr := b.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *wsProxy) dropWebsockets() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c, ws := range p.conns {
		if ws {
			c.Close()
		}
	}
}

func (p *wsProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *wsProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.dropAll()
}

// PID is the running Asterisk's process id (0 when stopped), for
// benchmarks that read its CPU time from /proc.
func (a *Asterisk) PID() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cmd == nil || a.cmd.Process == nil {
		return 0
	}
	return a.cmd.Process.Pid
}

// TestPhones are the extensions every test Asterisk has as fixed phones
// (etc/pjsip_phones.conf, which asterisk-conf/pjsip.conf includes when it
// exists), so tests need no database for a desk phone. Production ships no
// fixed phone: admins create phones in ctid and Asterisk reads them from
// Postgres (realtime), as the phones tests do.
var TestPhones = []string{"1001", "1002", "1003", "1004", "1005", "1006", "1007", "1008", "1009", "1010"}

// PhoneSecret is the SIP password of test phone ext ("" for another
// extension). Each phone has its own, so one phone's secret does not
// register another's extension.
func (a *Asterisk) PhoneSecret(ext string) string { return a.phoneSecrets[ext] }

func (a *Asterisk) writeTestPhones() error {
	var b strings.Builder
	b.WriteString("; test phones written by aritest (one secret each)\n")
	for _, ext := range TestPhones {
		a.phoneSecrets[ext] = randHex(8)
		fmt.Fprintf(&b, "\n[%[1]s](agent-phone)\nauth = %[1]s\naors = %[1]s\ncallerid = \"Agent %[1]s\" <%[1]s>\n"+
			"\n[%[1]s](agent-auth)\nusername = %[1]s\npassword = %[2]s\n\n[%[1]s](agent-aor)\n", ext, a.phoneSecrets[ext])
	}
	return os.WriteFile(filepath.Join(a.Dir, "etc", "pjsip_phones.conf"), []byte(b.String()), 0o600)
}
