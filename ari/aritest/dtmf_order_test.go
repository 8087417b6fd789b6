package aritest

import (
	"testing"
	"time"
)

// Two dtmf requests on one channel, the second sent before the first's
// digits are out, arrive in the order asked (Asterisk streams them one
// after the other on the channel's control queue); the desk's keypad sends
// a request per key.
func TestDTMFRequestsQueueOnTheChannel(t *testing.T) {
	clk := NewFakeClock(time.Time{})
	c := newTC(t, Options{Clock: clk})
	ev := c.events("cti", false)
	c.must("POST", "/channels", "endpoint=Local/s@agent&app=cti&channelId=a&otherChannelId=a2", 200)
	ev.wait("StasisStart", "a")
	c.must("POST", "/channels/a/dtmf", "dtmf=1&duration=300", 204)
	clk.Advance(100 * time.Millisecond)
	c.must("POST", "/channels/a/dtmf", "dtmf=%23&duration=50", 204)
	clk.Advance(2 * time.Second)
	ev.quiet(50 * time.Millisecond)
	if got := c.srv.DTMFDelivered("a"); got != "1#" {
		t.Fatalf("digits delivered in the order %q, want \"1#\"", got)
	}
}
