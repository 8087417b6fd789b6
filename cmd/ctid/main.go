// Command ctid is the CTI server: it controls Asterisk over ARI and serves
// agents' adaptors, the admin pages and the REST/websocket API.
//
//	ctid [serve]              run the server (default)
//	ctid migrate              apply database migrations and exit
//	ctid create-user ...      add an agent, supervisor or admin
//	ctid config               list configuration variables
//	ctid secret-key           print a new random CTID_SECRET_KEY
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"gorm.io/gorm"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/cti/postgres/localpg"
)

func main() {
	cmd, args := "serve", os.Args[1:]
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "migrate":
		err = migrate(args)
	case "create-user":
		err = createUser(args)
	case "secret-key":
		fmt.Println(api.NewSecretKey())
	case "config":
		for _, v := range configVars {
			fmt.Printf("%-22s %-18q %s\n", v.name, v.def, v.help)
		}
	default:
		err = fmt.Errorf("unknown command %q (serve, migrate, create-user, config, secret-key)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ctid:", err)
		os.Exit(1)
	}
}

func newLogger(c config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// openDB connects to CTID_DSN, or starts the throwaway cluster, and applies
// migrations. The returned stop function stops a cluster it started.
func openDB(ctx context.Context, c config, log *slog.Logger) (*gorm.DB, func(), error) {
	stop := func() {}
	dsn := c.DSN
	if dsn == "" {
		dir, err := filepath.Abs(filepath.Join(c.DataDir, "pg"))
		if err != nil {
			return nil, stop, err
		}
		log.Info("no CTID_DSN: starting a throwaway PostgreSQL cluster", "dir", dir)
		cl, err := localpg.Start(ctx, dir)
		if err != nil {
			return nil, stop, err
		}
		stop = func() { cl.Stop() }
		admin, err := postgres.Open(cl.DSN("postgres"))
		if err != nil {
			stop()
			return nil, func() {}, err
		}
		admin.Exec(`CREATE DATABASE ctid`) // exists on a reused directory: fine
		if s, err := admin.DB(); err == nil {
			s.Close()
		}
		dsn = cl.DSN("ctid")
	}
	db, err := postgres.Open(dsn)
	if err != nil {
		stop()
		return nil, func() {}, err
	}
	applied, err := postgres.Migrate(ctx, db)
	if err != nil {
		stop()
		return nil, func() {}, err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "versions", applied)
	}
	return db, stop, nil
}

func migrate(args []string) error {
	c, err := loadConfig(flag.NewFlagSet("migrate", flag.ExitOnError), args)
	if err != nil {
		return err
	}
	log := newLogger(c)
	_, stop, err := openDB(context.Background(), c, log)
	stop()
	return err
}

func createUser(args []string) error {
	fs := flag.NewFlagSet("create-user", flag.ExitOnError)
	username := fs.String("username", "", "login name (required)")
	role := fs.String("role", "agent", "agent, supervisor or admin")
	name := fs.String("name", "", "display name")
	phone := fs.String("phone", "", "default connection phone number")
	c, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	// The password never goes on the command line (ps, shell history):
	// CTID_NEW_PASSWORD, else the first line of standard input.
	password := os.Getenv("CTID_NEW_PASSWORD")
	if password == "" {
		if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprint(os.Stderr, "password: ")
		}
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("create-user reads the password from CTID_NEW_PASSWORD or standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if *username == "" || password == "" {
		return errors.New("create-user needs -username, and a password in CTID_NEW_PASSWORD or on standard input")
	}
	if err := postgres.PasswordPolicy(cti.Role(*role), password); err != nil {
		return err
	}
	log := newLogger(c)
	db, stop, err := openDB(context.Background(), c, log)
	if err != nil {
		return err
	}
	defer stop()
	acc, err := postgres.NewAdmin(db).CreateUser(context.Background(), postgres.NewUser{
		Username: *username, Password: password, DisplayName: *name, Role: cti.Role(*role),
		DefaultPhone: *phone, ManualCallWhenPaused: true,
	})
	if err != nil {
		return err
	}
	fmt.Printf("created %s %q (id %d)\n", acc.Role, acc.Username, acc.ID)
	return nil
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

// secretBox builds the SecretBox from CTID_SECRET_KEY. With the throwaway
// cluster and no key, a random key is kept beside the cluster in
// CTID_DATA_DIR/secret.key (mode 0600), so the demo's sealed keys survive
// a restart on the same directory. With CTID_DSN and no key there is no
// box: only keyless (sandbox) gateways can be saved.
func secretBox(c config, log *slog.Logger) (*api.SecretBox, error) {
	key := c.SecretKey
	if key == "" && c.DSN == "" {
		path := filepath.Join(c.DataDir, "secret.key")
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			key = strings.TrimSpace(string(b))
		case errors.Is(err, os.ErrNotExist):
			key = api.NewSecretKey()
			if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("writing %s: %w", path, err)
			}
		default:
			return nil, err
		}
	}
	if key == "" {
		log.Warn("CTID_SECRET_KEY is not set: campaigns cannot store payment gateway keys (only the sandbox gateway can be saved)")
		return nil, nil
	}
	return api.NewSecretBox(key)
}
