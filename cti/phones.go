package cti

import (
	"context"
	"strings"

	"github.com/ctid/ctid/ari"
)

// Phones bound to people (issue 12). ctid manages SIP phones (a desk phone
// or a browser softphone, each with its own secret, optionally assigned to
// a user: cti/postgres phones.go); an agent connects only a phone assigned
// to them, or an outside number when their profile allows it.

// PhoneDirectory says which phone a user may connect. PhoneFor gets the
// number the agent asked for ("" for their own phone) and returns the one
// to use: their assigned phone or default phone when they gave none, or
// an error (KindForbidden: another agent's phone, a disabled phone, an
// outside number their profile does not allow). Nil in Options: no
// managed phones, every number allowed (tests on the double).
type PhoneDirectory interface {
	PhoneFor(ctx context.Context, userID int64, number string) (string, error)
}

// checkPhone runs the directory check before the engine loop (it reads the
// database); connect then sees only a number the agent may use.
func (e *Engine) checkPhone(ctx context.Context, userID int64, req *ConnectRequest) error {
	if e.o.Phones == nil {
		return nil
	}
	n, err := e.o.Phones.PhoneFor(ctx, userID, req.Number)
	if err != nil {
		return err
	}
	req.Number = n
	return nil
}

// dialInEndpoint is the PJSIP endpoint that authenticated a call to the
// system (8000): CTI_ENDPOINT, set by [agent-login] from CHANNEL(endpoint),
// else the endpoint in the channel's name (PJSIP/<endpoint>-<seq>), which
// Asterisk also takes from the authenticated endpoint. Never the caller-id
// number, which a phone sends as it likes. "" when there is none.
func dialInEndpoint(ch ari.Channel) string {
	if ep := ch.ChannelVars["CTI_ENDPOINT"]; ep != "" {
		return ep
	}
	if rest, ok := strings.CutPrefix(ch.Name, "PJSIP/"); ok {
		if i := strings.LastIndexByte(rest, '-'); i > 0 {
			return rest[:i]
		}
	}
	return ""
}
