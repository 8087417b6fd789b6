// Package localpg starts a throwaway PostgreSQL cluster from the system's
// server binaries (initdb, postgres). It serves two users: `ctid` run without
// a DSN, so a newcomer needs no set-up, and tests, which must never use a mock
// database.
package localpg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the readiness probe
)

// Cluster is a running throwaway PostgreSQL server.
type Cluster struct {
	Dir  string // data and socket directory
	Port int
	User string
	// Password of User over TCP. A new cluster is not a trust-auth
	// superuser on its port (any local process could take it): TCP
	// connections need this password (scram-sha-256), kept in
	// <Dir>.password (0600); the unix socket in Dir (0700) stays trusted.
	// Empty for a cluster created before this rule.
	Password string
	cmd      *exec.Cmd
	done     chan error
}

// DSN returns a libpq-style DSN for database db on this cluster.
func (c *Cluster) DSN(db string) string {
	dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=%s dbname=%s sslmode=disable", c.Port, c.User, db)
	if c.Password != "" {
		dsn += " password=" + c.Password
	}
	return dsn
}

// FindBinDir locates the directory holding initdb and postgres: $PG_BIN, then
// PATH, then the newest /usr/lib/postgresql/<v>/bin (Debian's layout).
func FindBinDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("localpg: no PostgreSQL server binaries found (install postgresql, set PG_BIN, or give a DSN)")
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start initialises a cluster in dir (created if missing; reused if it
// already holds one) and starts it on a free loopback port. The server is a
// child process that receives SIGTERM if this process dies, so a killed test
// binary does not leave it behind.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cred, err := dropRoot(dir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, User: "ctid", done: make(chan error, 1)}
	pwPath := filepath.Clean(dir) + ".password"
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		c.Password = hex.EncodeToString(b)
		// initdb reads the superuser's password from a file it can open.
		pwfile := filepath.Clean(dir) + ".pwfile"
		if err := os.WriteFile(pwfile, []byte(c.Password+"\n"), 0o600); err != nil {
			return nil, err
		}
		defer os.Remove(pwfile)
		if cred != nil {
			_ = os.Chown(pwfile, int(cred.Uid), int(cred.Gid))
		}
		init := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", dir, "-U", c.User,
			"--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile="+pwfile,
			"--encoding=UTF8", "--locale=C", "--no-sync")
		init.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if out, err := init.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("localpg: initdb: %v: %s", err, out)
		}
		if err := os.WriteFile(pwPath, []byte(c.Password), 0o600); err != nil {
			return nil, err
		}
	} else if pw, err := os.ReadFile(pwPath); err == nil {
		c.Password = strings.TrimSpace(string(pw))
	}
	if c.Port, err = freePort(); err != nil {
		return nil, err
	}
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", dir, "-p", strconv.Itoa(c.Port),
		"-k", dir, "-c", "listen_addresses=127.0.0.1",
		// A throwaway cluster trades durability for speed.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=64MB")
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGTERM, Setpgid: true}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	if cred != nil {
		_ = os.Chown(logf.Name(), int(cred.Uid), int(cred.Gid))
	}
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	// Pdeathsig is tied to the starting OS thread; keep it alive for the
	// lifetime of the process by not letting this goroutine's thread exit.
	runtime.LockOSThread()
	err = c.cmd.Start()
	runtime.UnlockOSThread()
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("localpg: start postgres: %w", err)
	}
	go func() { c.done <- c.cmd.Wait(); logf.Close() }()
	if err := c.waitReady(ctx); err != nil {
		c.Stop()
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	return c, nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.done:
			return fmt.Errorf("localpg: postgres exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		db, err := sql.Open("pgx", c.DSN("postgres"))
		if err == nil {
			err = db.PingContext(ctx)
			db.Close()
			if err == nil {
				return nil
			}
		}
	}
	return errors.New("localpg: postgres did not become ready within 30s")
}

// Stop shuts the server down (fast shutdown) and waits for it.
func (c *Cluster) Stop() error {
	if c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	return nil
}

// dropRoot: PostgreSQL refuses to run as root, so when we are root (CI, the
// dev container) the cluster runs as the postgres (or nobody) user.
func dropRoot(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var u *user.User
	var err error
	for _, name := range []string{"postgres", "nobody"} {
		if u, err = user.Lookup(name); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("localpg: running as root and no postgres/nobody user to run the server as")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The user must be able to reach dir: open up its parents for traversal.
	for p := filepath.Dir(dir); p != "/" && p != "."; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(p, fi.Mode().Perm()|0o011)
		}
	}
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	}); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
