package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ctid/ctid/api"
	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/postgres"
	"github.com/ctid/ctid/dialer"
)

func serve(args []string) error {
	c, err := loadConfig(flag.NewFlagSet("serve", flag.ExitOnError), args)
	if err != nil {
		return err
	}
	log := newLogger(c)
	slog.SetDefault(log)
	ctx, cancel := signalContext()
	defer cancel()

	db, stopDB, err := openDB(ctx, c, log)
	if err != nil {
		return err
	}
	defer stopDB()
	if c.DSN == "" {
		if err := seedDemo(ctx, db, log); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}

	box, err := secretBox(c, log)
	if err != nil {
		return err
	}
	// Keys saved in clear before sealing existed are sealed now.
	if n, err := api.SealPaymentKeys(ctx, db, box); err != nil {
		return fmt.Errorf("sealing payment gateway keys: %w", err)
	} else if n > 0 && box != nil {
		log.Info("payment gateway keys stored in clear were sealed", "campaigns", n)
	} else if n > 0 {
		log.Warn("campaigns hold payment gateway keys in clear; set CTID_SECRET_KEY to seal them", "campaigns", n)
	}

	if c.Double {
		d := startDouble(ctx, c, log)
		defer d.Close()
		c.ARIURL = d.URL()
	}
	client, err := ari.New(ari.Config{URL: c.ARIURL, Username: c.ARIUser, Password: c.ARIPassword, App: c.App, Logger: log})
	if err != nil {
		return err
	}
	trunk := c.Trunk
	// ARI round-trip and event lag histograms on /metrics.
	tel := api.NewTelemetry()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), tel)
	// The dialler learns how attempts end from the engine; the engine
	// reports them asynchronously, after the worker exists.
	var dw *dialer.Worker
	eng := cti.New(cti.Options{
		Telephony: cti.TimedTelephony{T: cti.ARITelephony{C: client}, Observe: tel.ObserveARI}, Store: postgres.NewStore(db), Logger: log, App: c.App,
		DefaultRegion: c.DefaultRegion, OfferTimeout: c.OfferTimeout, MediaBase: c.MediaURL, DefaultCallerID: c.DefaultCallerID,
		TrunkEndpoint: func(n string) string { return fmt.Sprintf(trunk, n) },
		Gateway:       api.PaymentGateway(c.PaymentGateways, box),
		Outcome:       func(o cti.AttemptOutcome) { dw.Outcome(o) },
		Phones:        postgres.NewAdmin(db), // who may connect which phone (issue 12)
	})
	if dw, err = dialer.New(dialer.Config{DB: db, Engine: eng, Logger: log}); err != nil {
		return err
	}
	ariDone := make(chan error, 1)
	go func() { ariDone <- client.Run(ctx) }()
	go eng.PumpObserved(ctx, client.Events(), tel.ObserveEventLag)
	engDone := make(chan error, 1)
	go func() { engDone <- eng.Run(ctx) }()
	dw.Start(ctx)

	sqlDB, _ := db.DB()
	srv := api.New(api.Options{
		Engine: eng, DB: db, Logger: log, CORSOrigins: c.CORSOrigins, FrameAncestors: c.FrameAncestors,
		TokenTTL: c.TokenTTL, Recordings: client.Recordings, Registry: reg, Dialer: dw, DialplanSecret: c.DialplanSecret,
		TrustedProxies: c.TrustedProxies, MaxWebsocketsPerUser: c.MaxWebsockets, PaymentGateways: c.PaymentGateways, SecretBox: box,
		Desk: api.DeskOptions{AgentCallsNumber: c.AgentCallsNumber, SalesforceOrigin: c.SalesforceOrigin, DefaultCallerID: c.DefaultCallerID,
			SIPWebsocketURL: c.SIPWebsocketURL},
		DefaultRegion: c.DefaultRegion,
		Ready: func(ctx context.Context) error {
			if err := sqlDB.PingContext(ctx); err != nil {
				return fmt.Errorf("database: %w", err)
			}
			if !client.Connected() {
				return errors.New("ARI not connected")
			}
			return nil
		},
	})
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	log.Info("ctid listening", "addr", ln.Addr().String(), "ari", c.ARIURL, "double", c.Double,
		"adaptor", "http://"+hostPort(ln.Addr().String())+"/adaptor/")
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-engDone:
		return fmt.Errorf("engine stopped: %w", err)
	case err := <-httpDone:
		return fmt.Errorf("http server stopped: %w", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	srv.Shutdown(sctx)
	dw.Stop() // before the engine and the database go away
	<-engDone // the engine flushes its record writer before returning
	return nil
}

func hostPort(addr string) string {
	if strings.HasPrefix(addr, "[::]") || strings.HasPrefix(addr, "0.0.0.0") {
		_, port, _ := net.SplitHostPort(addr)
		return "localhost:" + port
	}
	return addr
}

// startDouble runs the in-process Asterisk double for a demo without
// Asterisk: desk phones 1001-1010 answer after a second, customer numbers
// after two, and CTID_DEMO_INBOUND (e.g. "+442071234567@45s") injects an
// inbound call to that DID at that interval.
func startDouble(ctx context.Context, c config, log *slog.Logger) *aritest.Server {
	d := aritest.NewServer(aritest.Options{Username: c.ARIUser, Password: c.ARIPassword})
	for i := 1001; i <= 1010; i++ {
		d.Script(fmt.Sprintf("PJSIP/%d", i), aritest.Behavior{AnswerAfter: time.Second})
	}
	d.Script("PJSIP/*@trunk", aritest.Behavior{AnswerAfter: 2 * time.Second})
	log.Warn("no CTID_ARI_URL: using the in-process Asterisk double (demo mode; no audio, no SIP phones)")
	if spec := os.Getenv("CTID_DEMO_INBOUND"); spec != "" {
		did, every, _ := strings.Cut(spec, "@")
		iv, err := time.ParseDuration(every)
		if err != nil || iv <= 0 {
			iv = time.Minute
		}
		go func() {
			t := time.NewTicker(iv)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					from := fmt.Sprintf("+447700900%03d", rand.IntN(1000))
					d.InboundCall(aritest.Call{App: c.App, Args: []string{"inbound", did, "Demo IVR", "choice=1"},
						From: from, To: did, Answered: true,
						Behavior: &aritest.Behavior{HangupAfter: time.Duration(30+rand.IntN(60)) * time.Second}})
				}
			}
		}()
	}
	return d
}
