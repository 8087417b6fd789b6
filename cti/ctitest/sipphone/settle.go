package sipphone

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// settling holds back Asterisk's requests within a dialog this user agent
// is still setting up, until its INVITE has returned and the call it
// makes is tracked and talking (agent.invite).
//
// diago files a dialog it started only once the dialog is confirmed, and
// sipgo confirms it after writing the ACK (DialogClientSession.WriteAck).
// When ctid bridges a caller at once (a Ready agent on a nailed-up leg),
// Asterisk sends its connected-line re-INVITE the moment the ACK lands. A
// re-INVITE that beats the filing finds no dialog and is refused 481, and
// Asterisk ends the call: the customer was gone and the agent alone in
// their bridge, hearing nothing (two CI runs failed so). With a 100 ms
// pause put into sipgo between the ACK and the filing, TestAsteriskSIPPayment
// failed that way on both tries (Asterisk's BYE after its re-INVITE was
// refused 481 as well); with this gate every real-Asterisk test passed.
// The trunk has since stopped sending connected-line updates (they named
// the agent to the carrier), but Asterisk still sends them to a desk
// phone that dials in, so the gate stays.
type settling struct {
	mu      sync.Mutex
	pending map[string]chan struct{} // Call-ID → closed when the INVITE returns
}

// begin registers a new dialog's Call-ID (for the INVITE's headers) and
// returns the function that lets its requests through.
func (s *settling) begin() (sip.CallIDHeader, func()) {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b) + "@ctid-test"
	done := make(chan struct{})
	s.mu.Lock()
	if s.pending == nil {
		s.pending = map[string]chan struct{}{}
	}
	s.pending[id] = done
	s.mu.Unlock()
	return sip.CallIDHeader(id), func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
		close(done)
	}
}

// middleware holds a request within a dialog still being set up until it
// is let through (5 s at most: a request Asterisk sent in an early
// dialog, before any answer, must not wait for the whole ring).
func (s *settling) middleware(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if cid := req.CallID(); cid != nil {
			s.mu.Lock()
			done := s.pending[string(*cid)]
			s.mu.Unlock()
			if done != nil {
				select {
				case <-done:
				case <-time.After(5 * time.Second):
				}
			}
		}
		next(req, tx)
	}
}
