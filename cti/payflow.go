package cti

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ctid/ctid/cti/payment"
)

// Payment capture (PCI DSS minded). While the customer keys their card on
// the phone: the customer leg is muted toward everyone (the agent hears no
// voice and no tones), the recording is paused, and digits never reach the
// agent leg because customers always join bridges with absorbDTMF. The
// digits live only inside payment.Capture, in memory, until the gateway
// request; the agent's screen gets payment.Progress and nothing else.

// PaymentDetails are the fields the agent types.
type PaymentDetails struct {
	Reference      string `json:"reference"`
	Expiry         string `json:"expiry"` // MM/YY
	CardholderName string `json:"cardholderName"`
	Amount         string `json:"amount"` // "12.34"
	Currency       string `json:"currency"`
}

// PaymentView is what the adaptor shows.
type PaymentView struct {
	InteractionID string           `json:"interactionId"`
	Progress      payment.Progress `json:"progress"`
	Charging      bool             `json:"charging"`
	Result        *payment.Result  `json:"result,omitempty"`
	Error         string           `json:"error,omitempty"`
}

type paymentFlow struct {
	capture  *payment.Capture
	gateway  payment.Gateway
	currency string
	charging bool
	result   *payment.Result
	by       *agent
}

// gatewayFor builds the campaign's gateway from its settings ("payment").
func (e *Engine) gatewayFor(c *Campaign) (payment.Gateway, string, error) {
	if e.o.Gateway != nil {
		return e.o.Gateway(c)
	}
	var s struct {
		Payment json.RawMessage `json:"payment"`
	}
	if len(c.Settings) > 0 {
		json.Unmarshal(c.Settings, &s)
	}
	if len(s.Payment) == 0 {
		return nil, "", errors.New("no payment gateway configured for this campaign")
	}
	cfg, err := payment.ParseConfig(s.Payment)
	if err != nil {
		return nil, "", err
	}
	gw, err := payment.New(cfg)
	return gw, cfg.Currency, err
}

// StartPayment starts card capture on the agent's call.
func (e *Engine) StartPayment(ctx context.Context, userID int64) (PaymentView, error) {
	var v PaymentView
	err := e.withAgent(ctx, userID, func(a *agent) error {
		c := a.call
		if c == nil || a.state != AgentOnCall || c.rec.State != CallConnected {
			return conflict(string(a.state), "You can take a payment only during a connected call.")
		}
		if c.campaign == nil || !c.campaign.PaymentEnabled {
			return forbidden("Payments are not enabled for this campaign.")
		}
		if c.payment != nil {
			return conflict(string(a.state), "A payment is already in progress.")
		}
		if c.ctl.held || c.xfer != nil {
			return conflict(string(a.state), "Take the customer off hold (and finish the transfer) before starting a payment.")
		}
		gw, cur, err := e.gatewayFor(c.campaign)
		if err != nil {
			return &Error{Kind: KindUnavailable, Msg: err.Error()}
		}
		tctx, cancel := e.tctx()
		defer cancel()
		if err := e.tel.Mute(tctx, c.rec.CustomerChannel, "in"); err != nil {
			// Without the mute the agent would hear the tones: refuse.
			return &Error{Kind: KindUnavailable, Msg: "could not secure the line: " + err.Error()}
		}
		c.payment = &paymentFlow{capture: payment.NewCapture(), gateway: gw, currency: cur, by: a}
		if c.recording != nil {
			e.setRecordingPaused(c, true, nil, "payment")
		}
		e.tel.Play(tctx, c.rec.CustomerChannel, e.newID("pb-"), "sound:beep")
		v = e.paymentView(c)
		e.publish(a, "payment.started", v)
		return nil
	})
	return v, err
}

func (e *Engine) paymentView(c *call) PaymentView {
	p := c.payment
	return PaymentView{InteractionID: c.rec.ID, Progress: p.capture.Progress(), Charging: p.charging, Result: p.result}
}

// onDTMF feeds a customer's digit to an active capture. Digits outside a
// capture are not ctid's business and are not logged.
func (e *Engine) onDTMF(channelID, digit string) {
	ref, ok := e.channels[channelID]
	if !ok || ref.role != roleCustomer || ref.call.payment == nil || ref.call.payment.charging {
		return
	}
	c := ref.call
	for _, d := range digit {
		c.payment.capture.Digit(d) // a rejected key shows in Progress.Error
	}
	if a := c.payment.by; a != nil && a.call == c {
		e.publish(a, "payment.progress", e.paymentView(c))
	}
}

// ResetPayment restarts card ("card") or CVV ("cvv") entry.
func (e *Engine) ResetPayment(ctx context.Context, userID int64, what string) (PaymentView, error) {
	var v PaymentView
	err := e.withPayment(ctx, userID, func(a *agent, c *call) error {
		if c.payment.charging {
			return conflict(string(a.state), "The payment is being processed. Please wait for the result.")
		}
		switch what {
		case "card":
			c.payment.capture.ResetCard()
		case "cvv":
			c.payment.capture.ResetCVV()
		default:
			return invalid("what", "reset card or cvv")
		}
		c.payment.result = nil
		v = e.paymentView(c)
		e.publish(a, "payment.progress", v)
		return nil
	})
	return v, err
}

// MakePayment sends the payment to the gateway; the result arrives as a
// payment.result event (and is stored without card data).
func (e *Engine) MakePayment(ctx context.Context, userID int64, d PaymentDetails) (PaymentView, error) {
	var v PaymentView
	err := e.withPayment(ctx, userID, func(a *agent, c *call) error {
		p := c.payment
		if p.charging {
			return conflict(string(a.state), "The payment is being processed. Please wait for the result.")
		}
		if !p.capture.Complete() {
			return invalid("card", "the customer has not finished keying a valid card number and security code")
		}
		cur := d.Currency
		if cur == "" {
			cur = p.currency
		}
		amount, err := payment.ParseAmount(d.Amount, cur)
		if err != nil {
			return invalid("amount", err.Error())
		}
		mm, yy, err := payment.ParseExpiry(d.Expiry)
		if err != nil {
			return invalid("expiry", err.Error())
		}
		req := payment.Request{Reference: d.Reference, Amount: amount, Currency: cur,
			CardholderName: strings.TrimSpace(d.CardholderName), ExpiryMonth: mm, ExpiryYear: yy,
			IdempotencyKey: c.rec.ID + "-" + e.newID("")}.WithCard(p.capture)
		if err := req.Validate(e.now(), p.currency); err != nil {
			return invalid(paymentField(err), err.Error())
		}
		p.charging, p.result = true, nil
		gw, iid, uid := p.gateway, c.rec.ID, a.user.ID
		go func() {
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			res, err := gw.Charge(cctx, req)
			cancel()
			e.post(func() { e.paymentDone(c, iid, uid, req, res, err) })
		}()
		v = e.paymentView(c)
		e.publish(a, "payment.progress", v)
		return nil
	})
	return v, err
}

func (e *Engine) paymentDone(c *call, iid string, uid int64, req payment.Request, res payment.Result, err error) {
	p := c.payment
	prog := req.Card().Progress()
	req.Card().Wipe() // the card is gone from memory whatever the outcome
	if p == nil {
		return // exited or hung up meanwhile; nothing to show
	}
	p.charging = false
	view := e.paymentView(c)
	if err != nil {
		view.Error = "the payment gateway did not answer; the card was not charged or the outcome is unknown — check before retrying"
	} else {
		p.result = &res
		view.Result = &res
		rec := PaymentRecord{ID: e.newID("P"), InteractionID: iid, AgentID: uid, Reference: req.Reference,
			AmountMinor: req.Amount, Currency: req.Currency, CardBrand: prog.CardBrand, CardLast4: prog.CardLast4,
			Approved: res.Approved, GatewayRef: res.Reference, DeclineReason: res.DeclineReason}
		e.writer.add(iid, func(ctx context.Context, s Store) error { return s.SavePayment(ctx, rec) })
	}
	view.Progress = p.capture.Progress()
	if a := p.by; a != nil && a.call == c {
		e.publish(a, "payment.result", view)
	}
}

// ExitPayment leaves the payment screen: card data wiped, the customer
// unmuted and the recording resumed.
func (e *Engine) ExitPayment(ctx context.Context, userID int64) error {
	return e.withPayment(ctx, userID, func(a *agent, c *call) error {
		if c.payment.charging {
			return conflict(string(a.state), "The payment is being processed. Please wait for the result.")
		}
		e.endPayment(c, "agent exit")
		return nil
	})
}

func (e *Engine) endPayment(c *call, why string) {
	p := c.payment
	if p == nil {
		return
	}
	p.capture.Wipe()
	c.payment = nil
	if c.rec.CustomerChannel != "" && c.rec.State == CallConnected {
		ctx, cancel := e.tctx()
		e.tel.Unmute(ctx, c.rec.CustomerChannel, "in")
		cancel()
		if r := c.recording; r != nil && r.pausedBy == "payment" {
			e.setRecordingPaused(c, false, nil, "payment")
		}
	}
	if a := p.by; a != nil {
		e.publish(a, "payment.ended", map[string]string{"interactionId": c.rec.ID, "reason": why})
	}
}

// paymentField names the request field a validation error is about.
func paymentField(err error) string {
	switch {
	case errors.Is(err, payment.ErrExpired), errors.Is(err, payment.ErrInvalidExpiry):
		return "expiry"
	case errors.Is(err, payment.ErrInvalidAmount):
		return "amount"
	case errors.Is(err, payment.ErrInvalidCurrency):
		return "currency"
	case errors.Is(err, payment.ErrInvalidRef):
		return "reference"
	case errors.Is(err, payment.ErrCardIncomplete), errors.Is(err, payment.ErrCardInvalid), errors.Is(err, payment.ErrWiped):
		return "card"
	}
	return "payment"
}

func (e *Engine) withPayment(ctx context.Context, userID int64, f func(*agent, *call) error) error {
	return e.withAgent(ctx, userID, func(a *agent) error {
		if a.call == nil || a.call.payment == nil {
			return conflict(string(a.state), "No payment is in progress.")
		}
		return f(a, a.call)
	})
}
