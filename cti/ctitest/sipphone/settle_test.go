package sipphone

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A request within a dialog whose INVITE has not returned waits for it;
// any other request goes through at once.
func TestSettlingHoldsRequestsOfAnUnfiledDialog(t *testing.T) {
	var s settling
	callID, settled := s.begin()
	handled := make(chan string, 2)
	h := s.middleware(func(req *sip.Request, _ sip.ServerTransaction) { handled <- string(*req.CallID()) })
	req := func(id string) *sip.Request {
		r := sip.NewRequest(sip.INVITE, sip.Uri{User: "x", Host: "127.0.0.1"})
		cid := sip.CallIDHeader(id)
		r.AppendHeader(&cid)
		return r
	}
	go h(req(string(callID)), nil)
	go h(req("another-dialog"), nil)
	select {
	case got := <-handled:
		if got != "another-dialog" {
			t.Fatalf("the re-INVITE of the unfiled dialog went through first")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a request of another dialog was held")
	}
	// Nothing can signal that a request is being held, so give it a
	// moment to get through wrongly (a broken gate does within it).
	select {
	case <-handled:
		t.Fatal("the re-INVITE went through before its INVITE returned")
	case <-time.After(200 * time.Millisecond):
	}
	settled()
	select {
	case got := <-handled:
		if got != string(callID) {
			t.Fatalf("handled %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the re-INVITE was still held after its INVITE returned")
	}
}
