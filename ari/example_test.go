package ari_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"

	"github.com/ctid/ctid/ari"
)

func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Channel ids the application owns; re-subscribed after a reconnect.
	var mu sync.Mutex
	owned := map[string]bool{}

	c, err := ari.New(ari.Config{
		URL:      "http://127.0.0.1:8088",
		Username: "ctid", Password: "secret", App: "ctid",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Subscriptions: func() []string { // called from Run's goroutine
			mu.Lock()
			defer mu.Unlock()
			var s []string
			for id := range owned {
				s = append(s, "channel:"+id)
			}
			return s
		},
	})
	if err != nil {
		panic(err)
	}
	go c.Run(ctx) //nolint:errcheck // returns nil when ctx ends

	for ev := range c.Events() {
		switch e := ev.(type) {
		case *ari.ConnectionEvent:
			if e.State == ari.Connected && e.AsteriskRestarted {
				// every channel and bridge is gone: end the calls we knew
			}
		case *ari.StasisStart:
			mu.Lock()
			owned[e.Channel.ID] = true
			mu.Unlock()
			bridgeID := ari.NewID("call")
			_, err := c.Bridges.Create(ctx, ari.BridgeRequest{ID: bridgeID, Types: []string{ari.BridgeMixing, ari.BridgeDTMFEvents}})
			if err == nil {
				err = c.Bridges.AddChannel(ctx, bridgeID, ari.AddChannelRequest{Channels: []string{e.Channel.ID}, AbsorbDTMF: true})
			}
			if errors.Is(err, ari.ErrNotFound) {
				// the caller hung up meanwhile
			}
		case *ari.ChannelDtmfReceived:
			_ = e.Digit
		case *ari.StasisEnd:
			mu.Lock()
			delete(owned, e.Channel.ID)
			mu.Unlock()
		}
	}
}
