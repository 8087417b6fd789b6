package cti_test

import (
	"context"
	"encoding/binary"
	"io"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/audio"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
)

// TestAsteriskSIPPayment: the customer is a real SIP user agent (diago) that
// calls the trunk, talks (a 1004 Hz tone) and keys the card as RFC 4733
// events. The engine captures the card; the agent's phone receives no DTMF
// event, and what Asterisk writes towards the agent (a spy=out snoop on the
// agent leg) is the tone before capture and silence during it.
func TestAsteriskSIPPayment(t *testing.T) {
	tg := aritest.AsteriskTarget(t)
	sipPort := tg.Asterisk.SIPPort
	st, alice, _ := realStackOn(t, &tg, ctitest.CampaignSpec{Recording: true, Payment: `{"kind":"sandbox","currency":"GBP"}`})
	ctx := context.Background()
	w := st.WatchAgent(t, alice)
	probe, agentLeg := probeAgentPhone(t, st)
	var leaked atomic.Int32
	recDone := make(chan string, 16)
	go func() {
		for ev := range probe.Events() {
			switch e := ev.(type) {
			case *ari.ChannelDtmfReceived:
				if e.Channel.ID == agentLeg+";2" {
					leaked.Add(1)
				}
			case *ari.RecordingFinished:
				recDone <- e.Recording.Name
			}
		}
	}()

	// The carrier: a SIP UA on 127.0.0.1 whose From user is no endpoint
	// name, so Asterisk identifies the trunk by IP.
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("carrier"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	dg := diago.NewDiago(ua, diago.WithTransport(diago.Transport{Transport: "udp", BindHost: "127.0.0.1"}))
	uctx, ucancel := context.WithCancel(ctx)
	defer ucancel()
	if err := dg.ServeBackground(uctx, func(d *diago.DialogServerSession) {}); err != nil {
		t.Fatal(err)
	}
	ictx, icancel := context.WithTimeout(ctx, 15*time.Second)
	defer icancel()
	// diago v0.42.1 reports the listener ready before the transport layer
	// holds its socket; an INVITE sent in that gap tries to bind the same
	// port itself ("address already in use"), so retry that case.
	var dialog *diago.DialogClientSession
	var med *diago.DialogMedia
	for try := 0; ; try++ {
		dialog, med, err = dg.Invite(ictx, sip.Uri{User: "5550100", Host: "127.0.0.1", Port: sipPort}, diago.InviteOptions{})
		if err == nil || try == 10 || !strings.Contains(err.Error(), "address already in use") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("INVITE to Asterisk: %v", err)
	}
	defer func() {
		hctx, hcancel := context.WithTimeout(ctx, 3*time.Second)
		defer hcancel()
		dialog.Hangup(hctx)
		dialog.Close()
	}()
	dtmf, err := med.AudioWriterDTMF()
	if err != nil {
		t.Fatal(err)
	}
	// The customer talks continuously: a 1004 Hz tone, µ-law, 20 ms frames
	// (the RTP writer paces each Write to the packet clock).
	go func() {
		pcm := make([]byte, 320)
		ulaw := make([]byte, 160)
		n := 0
		for uctx.Err() == nil {
			for i := 0; i < 160; i++ {
				v := int16(8000 * math.Sin(2*math.Pi*1004*float64(n)/8000))
				binary.LittleEndian.PutUint16(pcm[2*i:], uint16(v))
				n++
			}
			audio.EncodeUlawTo(ulaw, pcm)
			if _, err := dtmf.Write(ulaw); err != nil {
				return
			}
		}
	}()
	w.Next("call.connected", 10*time.Second)

	// What the agent hears is what Asterisk writes to the agent leg.
	if _, err := probe.Channels.Snoop(ctx, agentLeg, ari.SnoopRequest{SnoopID: "ear", Spy: "out", App: "probe"}); err != nil {
		t.Fatal(err)
	}
	record := func(name string, during func()) float64 {
		t.Helper()
		if _, err := probe.Channels.Record(ctx, "ear", ari.RecordRequest{Name: name, Format: "wav", MaxSilenceSeconds: 0}); err != nil {
			t.Fatal(err)
		}
		during()
		if err := probe.Recordings.Stop(ctx, name); err != nil {
			t.Fatal(err)
		}
		select {
		case <-recDone:
		case <-time.After(5 * time.Second):
			t.Fatalf("recording %s not finished", name)
		}
		rc, err := probe.Recordings.DownloadStored(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return wavRMS(t, name, b)
	}
	time.Sleep(500 * time.Millisecond)
	before := record("ear-before", func() { time.Sleep(2 * time.Second) })

	if _, err := st.Engine.StartPayment(ctx, alice); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the capture is on
	sent := "4242424242424242#123"
	during := record("ear-during", func() {
		time.Sleep(500 * time.Millisecond)
		for _, d := range sent {
			if err := dtmf.WriteDTMF(d); err != nil {
				t.Errorf("WriteDTMF %c: %v", d, err)
			}
			time.Sleep(150 * time.Millisecond) // tone in between: timestamps move on
		}
		ctitest.Eventually(t, 10*time.Second, "card and CVV captured", func() bool {
			s, _ := st.Engine.Snapshot(ctx, alice)
			return s.Payment != nil && s.Payment.Progress.CVVValid
		})
	})
	s, _ := st.Engine.Snapshot(ctx, alice)
	if s.Payment.Progress.CardLast4 != "4242" {
		t.Fatalf("progress %+v", s.Payment.Progress)
	}
	if _, err := st.Engine.MakePayment(ctx, alice, cti.PaymentDetails{Reference: "R1", Expiry: "12/39", CardholderName: "C", Amount: "1.00"}); err != nil {
		t.Fatal(err)
	}
	res := decode[cti.PaymentView](t, w.Next("payment.result", 10*time.Second))
	if res.Result == nil || !res.Result.Approved {
		t.Fatalf("result %+v", res)
	}
	// Control: leaving the payment screen unmutes the customer, so the
	// same snoop hears the tone again (the silence was the capture's).
	if err := st.Engine.ExitPayment(ctx, alice); err != nil {
		t.Fatal(err)
	}
	w.Next("payment.ended", 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	after := record("ear-after", func() { time.Sleep(2 * time.Second) })
	t.Logf("customer From user %q; agent-ear RMS: before capture %.0f, during capture %.1f, after exit %.0f; progress %+v; DTMF events on the agent phone: %d",
		dialog.InviteRequest.From().Address.User, before, during, after, s.Payment.Progress, leaked.Load())
	if after < 500 {
		t.Errorf("after the payment the agent should hear the customer again: RMS %.0f", after)
	}
	if before < 500 {
		t.Errorf("before capture the agent should hear the customer: RMS %.0f", before)
	}
	if during > 50 {
		t.Errorf("during capture the agent should hear silence: RMS %.1f", during)
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("%d DTMF events reached the agent's phone", n)
	}
}

// wavRMS is the RMS of a 16-bit mono WAV's samples (Asterisk's "wav" is
// 8 kHz slin); it walks the RIFF chunks to the data chunk.
func wavRMS(t *testing.T, name string, b []byte) float64 {
	t.Helper()
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("%s: not a WAV (%d bytes)", name, len(b))
	}
	p := 12
	for p+8 <= len(b) {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		if id == "fmt " && binary.LittleEndian.Uint16(b[p+14:]) != 16 {
			t.Fatalf("%s: %d bits per sample", name, binary.LittleEndian.Uint16(b[p+14:]))
		}
		if id == "data" {
			data := b[p:min(p+size, len(b))]
			n := len(data) / 2
			if n < 4000 {
				t.Fatalf("%s: only %d samples", name, n)
			}
			var sum float64
			for i := 0; i < n; i++ {
				v := float64(int16(binary.LittleEndian.Uint16(data[2*i:])))
				sum += v * v
			}
			return math.Sqrt(sum / float64(n))
		}
		p += size + size%2
	}
	t.Fatalf("%s: no data chunk", name)
	return 0
}
