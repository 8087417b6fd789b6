package ari

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// ErrAlreadyRunning is returned by Run when it is called twice.
var ErrAlreadyRunning = errors.New("ari: Run already called")

// Run connects the event websocket and delivers events on Events until ctx
// is done, reconnecting with exponential backoff (ReconnectMin to
// ReconnectMax, with jitter) whenever the connection drops or a ping goes
// unanswered. On every successful (re)connect it reads /asterisk/info,
// re-subscribes Config.Subscriptions, then delivers a Connected
// ConnectionEvent; when an established connection drops (or the first
// attempt fails) it delivers a Disconnected one. Run closes the Events
// channel and returns nil when ctx is done. It may be called only once.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer close(c.events)
	defer c.conn.Store(false)

	var (
		prev      *AsteriskInfo // info of the previous connection
		connects  int
		announced = -1 // last state delivered: -1 none, else ConnectionState
		backoff   = c.cfg.ReconnectMin
	)
	for ctx.Err() == nil {
		ws, info, err := c.connect(ctx)
		if err == nil {
			restarted := prev != nil && asteriskRestarted(prev, info)
			prev = info
			connects++
			backoff = c.cfg.ReconnectMin
			c.conn.Store(true)
			c.log.Info("ari: connected", "app", c.cfg.App, "reconnect", connects > 1, "asterisk_restarted", restarted)
			if !c.emit(ctx, c.connEvent(Connected, connects > 1, restarted, info, nil)) {
				ws.Close()
				break
			}
			announced = int(Connected)
			err = c.readLoop(ctx, ws)
			c.conn.Store(false)
			if ctx.Err() != nil {
				break
			}
			c.log.Warn("ari: websocket dropped", "app", c.cfg.App, "err", err)
		} else {
			if ctx.Err() != nil {
				break
			}
			c.log.Warn("ari: connect failed", "app", c.cfg.App, "err", err, "retry_in", backoff)
		}
		if announced != int(Disconnected) {
			if !c.emit(ctx, c.connEvent(Disconnected, false, false, nil, err)) {
				break
			}
			announced = int(Disconnected)
		}
		// Full jitter in [backoff/2, backoff].
		d := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		backoff *= 2
		if backoff > c.cfg.ReconnectMax {
			backoff = c.cfg.ReconnectMax
		}
	}
	return nil
}

func (c *Client) connEvent(s ConnectionState, reconnect, restarted bool, info *AsteriskInfo, err error) *ConnectionEvent {
	return &ConnectionEvent{
		EventBase:         EventBase{Type: TypeConnection, Application: c.cfg.App, Timestamp: Time{time.Now()}},
		State:             s,
		Reconnect:         reconnect,
		AsteriskRestarted: restarted,
		Info:              info,
		Err:               err,
	}
}

// asteriskRestarted reports whether cur describes a different Asterisk run
// than prev (startup time or entity id changed).
func asteriskRestarted(prev, cur *AsteriskInfo) bool {
	if prev.Status != nil && cur.Status != nil && !prev.Status.StartupTime.Equal(cur.Status.StartupTime.Time) {
		return true
	}
	if prev.System != nil && cur.System != nil && prev.System.EntityID != cur.System.EntityID {
		return true
	}
	return false
}

// emit delivers ev, blocking while the buffer is full; false if ctx ended.
func (c *Client) emit(ctx context.Context, ev Event) bool {
	select {
	case c.events <- ev:
		return true
	default:
	}
	select {
	case c.events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// connect opens the websocket, reads /asterisk/info and re-subscribes.
func (c *Client) connect(ctx context.Context) (*websocket.Conn, *AsteriskInfo, error) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d := websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   16 << 10,
		WriteBufferSize:  1 << 10,
	}
	if t, ok := c.http.Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
		d.TLSClientConfig = t.TLSClientConfig.Clone()
	}
	ws, resp, err := d.DialContext(dctx, c.wsURL, nil)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			return nil, nil, &Error{Op: "GET /events", Status: resp.StatusCode, Message: errorMessage(body), Err: err}
		}
		return nil, nil, &Error{Op: "GET /events", Err: err}
	}
	info, err := c.Asterisk.Info(dctx)
	if err != nil {
		ws.Close()
		return nil, nil, err
	}
	if c.cfg.Subscriptions != nil {
		c.resubscribe(dctx, c.cfg.Subscriptions())
	}
	return ws, info, nil
}

// resubscribe subscribes the application to sources, in one request if
// possible, else one by one (a source that no longer exists is logged).
func (c *Client) resubscribe(ctx context.Context, sources []string) {
	if len(sources) == 0 {
		return
	}
	if _, err := c.Applications.Subscribe(ctx, c.cfg.App, sources...); err == nil {
		return
	} else if len(sources) == 1 {
		c.log.Warn("ari: resubscribe failed", "source", sources[0], "err", err)
		return
	}
	for _, s := range sources {
		if _, err := c.Applications.Subscribe(ctx, c.cfg.App, s); err != nil {
			c.log.Warn("ari: resubscribe failed", "source", s, "err", err)
		}
	}
}

// readLoop reads and delivers events until the connection fails or ctx is
// done. A goroutine pings every PingInterval; any frame or pong extends the
// read deadline by PingInterval+PongTimeout.
func (c *Client) readLoop(ctx context.Context, ws *websocket.Conn) error {
	defer ws.Close()
	wait := c.cfg.PingInterval + c.cfg.PongTimeout
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	ws.SetPongHandler(func(string) error {
		return ws.SetReadDeadline(time.Now().Add(wait))
	})

	done := make(chan struct{})
	pingErr := make(chan error, 1)
	go func() {
		t := time.NewTicker(c.cfg.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				// Unblock ReadMessage.
				_ = ws.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				_ = ws.SetReadDeadline(time.Now())
				return
			case <-t.C:
				if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.PongTimeout)); err != nil {
					pingErr <- err
					_ = ws.SetReadDeadline(time.Now())
					return
				}
			}
		}
	}()
	defer close(done)

	var buf bytes.Buffer
	for {
		typ, r, err := ws.NextReader()
		if err != nil {
			select {
			case perr := <-pingErr:
				return fmt.Errorf("ping: %w", perr)
			default:
			}
			return err
		}
		if typ != websocket.TextMessage && typ != websocket.BinaryMessage {
			continue
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return err
		}
		ev, err := DecodeEvent(buf.Bytes())
		if err != nil {
			c.log.Warn("ari: undecodable event", "err", err, "len", buf.Len())
			continue
		}
		if !c.emit(ctx, ev) {
			return ctx.Err()
		}
		// After emit, so time blocked on a slow consumer is not taken as a
		// dead connection.
		_ = ws.SetReadDeadline(time.Now().Add(wait))
	}
}
