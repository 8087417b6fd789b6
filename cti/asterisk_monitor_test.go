package cti_test

import (
	"context"
	"io"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/ari/aritest"
	"github.com/ctid/ctid/cti"
	"github.com/ctid/ctid/cti/ctitest"
	"github.com/ctid/ctid/cti/ctitest/sipphone"
)

const supervisorHz = 1700 // sue's phone, 1003

// TestAsteriskMonitorListenWhisperBarge: a recorded call between the
// carrier's customer and alice's phone; sue monitors it on her own phone
// 1003. Listening she hears both and neither hears her; whispering alice
// hears her and the customer does not; barged all three hear each other.
// The recording holds no supervisor tone before the barge, and does after.
func TestAsteriskMonitorListenWhisperBarge(t *testing.T) {
	tg := aritest.AsteriskTarget(t)
	var alice, sue int64
	st := ctitest.StartSeeded(t, ctitest.Options{Target: &tg, OfferTimeout: 10 * time.Second}, func(db *gorm.DB) {
		alice = ctitest.Agent(t, db, "alice", "1001")
		sue = ctitest.Agent(t, db, "sue", "1003")
		db.Exec(`UPDATE users SET role = 'supervisor' WHERE id = ?`, sue)
		ctitest.Campaign(t, db, ctitest.CampaignSpec{Name: "Real", DID: phoneDID, Platform: "+442071234567",
			Agents: []int64{alice}, Codes: []string{"DONE"}, Recording: true})
	})
	ctx := context.Background()
	phone := sipphone.NewPhone(t, tg.Asterisk, "1001", sipphone.WithTone(aliceHz))
	supPhone := sipphone.NewPhone(t, tg.Asterisk, "1003", sipphone.WithTone(supervisorHz))
	carrier := sipphone.NewCarrier(t, tg.Asterisk, sipphone.WithTone(customerHz))
	w := st.WatchAgent(t, alice)

	st.Engine.Login(ctx, alice)
	if err := st.Engine.Connect(ctx, alice, cti.ConnectRequest{Mode: cti.PhoneSystemCalls, Number: "1001", Persistent: true}); err != nil {
		t.Fatal(err)
	}
	leg := phone.NextCall(10 * time.Second)
	leg.WaitAnswered(10 * time.Second)
	st.WaitState(t, alice, cti.AgentPaused, 10*time.Second)
	if err := st.Engine.SetReady(ctx, alice); err != nil {
		t.Fatal(err)
	}
	cust, err := carrier.Call(ctx, phoneDID, "+447700900123")
	if err != nil {
		t.Fatal(err)
	}
	info := decode[cti.CallInfo](t, w.Next("call.connected", 15*time.Second))
	talk(t, leg, aliceHz, cust, customerHz)
	ctitest.Eventually(t, 15*time.Second, "recording", func() bool {
		s, err := st.Engine.Snapshot(ctx, alice)
		return err == nil && s.Recording != nil && s.Recording.State == "recording"
	})

	// Listen: sue hears customer and agent; neither hears sue.
	if _, err := st.Engine.Monitor(ctx, cti.MonitorRequest{SupervisorID: sue, Supervisor: "Sue", InteractionID: info.InteractionID,
		Mode: cti.MonitorListen, Phone: "1003"}); err != nil {
		t.Fatal(err)
	}
	sup := supPhone.NextCall(15 * time.Second)
	sup.WaitAnswered(10 * time.Second)
	sup.WaitHears(customerHz, 15*time.Second)
	l := sup.WaitHears(aliceHz, 15*time.Second)
	t.Logf("listening, sue hears %v", l)
	cust.HearsNot(supervisorHz, 2*time.Second)
	leg.HearsNot(supervisorHz, 2*time.Second)

	// Whisper: alice hears sue, the customer does not.
	if _, err := st.Engine.Monitor(ctx, cti.MonitorRequest{SupervisorID: sue, InteractionID: info.InteractionID, Mode: cti.MonitorWhisper}); err != nil {
		t.Fatal(err)
	}
	l = leg.WaitHears(supervisorHz, 15*time.Second)
	t.Logf("whispering, alice hears %v", l)
	cust.HearsNot(supervisorHz, 2*time.Second)
	sup.WaitHears(customerHz, 10*time.Second)

	// Barge: everyone hears everyone.
	bargeAt := time.Now()
	if _, err := st.Engine.Monitor(ctx, cti.MonitorRequest{SupervisorID: sue, InteractionID: info.InteractionID, Mode: cti.MonitorBarge}); err != nil {
		t.Fatal(err)
	}
	l = cust.WaitHears(supervisorHz, 15*time.Second)
	t.Logf("barged, the customer hears %v", l)
	leg.WaitHears(supervisorHz, 10*time.Second)
	sup.WaitHears(customerHz, 10*time.Second)
	sup.WaitHears(aliceHz, 10*time.Second)
	cust.WaitHears(aliceHz, 10*time.Second)
	time.Sleep(2 * time.Second) // two seconds of barge in the recording
	if _, err := st.Engine.StopMonitor(ctx, sue); err != nil {
		t.Fatal(err)
	}
	sup.WaitEnded(10 * time.Second)
	if err := cust.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	w.Next("wrap.started", 10*time.Second)

	var rec struct {
		Name      string
		State     string
		StartedAt time.Time
	}
	ctitest.Eventually(t, 20*time.Second, "recording finished", func() bool {
		st.Engine.Flush(ctx)
		st.DB.Raw(`SELECT name, state, started_at FROM recordings WHERE interaction_id = ?`, info.InteractionID).Scan(&rec)
		return rec.State == "stopped"
	})
	body, err := st.ARI.Recordings.DownloadStored(ctx, rec.Name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatal(err)
	}
	pcm := wavSamples(t, rec.Name, b)
	// Everything up to the barge (less a second's margin for the file
	// dropping frames, see the recording test) holds no supervisor tone.
	cut := int((bargeAt.Sub(rec.StartedAt) - time.Second).Seconds() * 8000)
	if cut <= 8000 || cut > len(pcm) {
		t.Fatalf("recording of %d samples, barge at sample %d", len(pcm), cut)
	}
	before := sipphone.LevelOf(pcm[:cut])
	from := int((bargeAt.Sub(rec.StartedAt) + 1500*time.Millisecond).Seconds() * 8000)
	after := sipphone.LevelOf(pcm[min(from, len(pcm)-8000):min(from+8000, len(pcm))])
	t.Logf("recording before the barge %v; a second of the barge %v", before, after)
	if before.Tone(supervisorHz) >= sipphone.AbsentMax {
		t.Errorf("the recording holds the supervisor before the barge: %v", before)
	}
	if !before.Hears(customerHz) || !before.Hears(aliceHz) {
		t.Errorf("the recording should hold customer and agent: %v", before)
	}
	if !after.Hears(supervisorHz) {
		t.Errorf("the barge is not in the recording: %v", after)
	}
}
