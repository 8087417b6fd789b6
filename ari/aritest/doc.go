// Package aritest is an in-process Asterisk double that speaks ARI (REST under
// /ari and the /ari/events websocket) over real HTTP, modelled on Asterisk
// 22.10.1 as described in /work/shared/ARI-NOTES.md. It does not import the
// project's ARI client, so the client's wire format is checked against an
// independent implementation.
//
// # Model
//
// Calls, media and time are simulated. Scripted endpoints (Script) stand in
// for phones, trunks and Local-channel dialplans; DialplanContext scripts
// (ScriptContext) decide what happens after `continue`. An optional FakeClock
// runs every timer (ringing, answer, DTMF, playback, recording) without real
// waiting. Zero-delay steps run synchronously inside the request that caused
// them, so events may reach the websocket before the HTTP response, as they can
// with Asterisk.
//
// Choices where Asterisk needs configuration the double does not have:
//   - Originating to an unscripted PJSIP endpoint (or unknown technology)
//     fails with 500 {"message":"Allocation failed"}, as ast_dial_prerun does
//     for an unknown PJSIP endpoint. Script("PJSIP/1001", Behavior{}) makes it
//     answer at once; the endpoint then shows as online in GET /endpoints.
//   - Local/x@ctx without a script answers immediately. Originating a Local
//     channel creates ;1 (channelId) and ;2 (otherChannelId); the originating
//     app is subscribed to both. A script's DTMF is keyed towards ;1, so
//     ChannelDtmfReceived fires on ;1 (main/core_unreal.c), and digits written
//     to ;1 (from its bridge or /dtmf) fire ChannelDtmfReceived on ;2.
//   - Digits passing through a bridge are *written* to the peer channel: they
//     are counted in DTMFDelivered(peer) but produce no ChannelDtmfReceived on a
//     PJSIP peer (Asterisk only reports received digits); a Local peer reports
//     them on its ;2 half. POST /channels/{id}/dtmf likewise writes to {id}'s
//     far end, it does not inject digits into the bridge.
//   - Inbound calls are PJSIP/trunk channels in state Ring entering
//     Stasis(app,args) with dialplan context from-trunk, exten = dialled number.
//     If the app is unregistered or inactive the call gets
//     STASISSTATUS=FAILED and is hung up (InboundCall returns ErrAppNotActive).
//
// # Semantics implemented
//
// Auth (basic and api_key), applications (ApplicationReplaced, inactive apps
// drop events and fail Stasis(), subscribeAll apps vanish on disconnect,
// subscription refcounts like res_stasis: originate/Stasis/bridge membership
// and explicit eventSource subscriptions), originate (app or
// context/extension, ids, callerId, timeout, variables incl. report_events),
// create+dial with Dial events (""/RINGING/ANSWER/BUSY/NOANSWER/CONGESTION/
// CANCEL; none when the timeout expires), hang-up with reason/reason_code
// and the observed event order ChannelHangupRequest → (ChannelVarset
// BRIDGEPEER="") → ChannelLeftBridge → StasisEnd →
// ChannelVarset(STASISSTATUS) → ChannelDestroyed, answer, ring, progress,
// hold/unhold, moh, silence, mute/unmute, dtmf, play (queued per target,
// PlaybackStarted/Continuing/Finished, control ops), record (LiveRecording,
// RecordingStarted/Finished; duration = captured time minus paused time,
// muted time counts), snoop (follows the snooped channel across bridges and
// continue, ends with it), continue, move, variables, bridges (mixing/holding,
// addChannel departs the old bridge first, role/absorbDTMF/mute, removeChannel
// and destroy errors, bridges never dissolve, bridge recordings capture only
// while the bridge has channels and end 4 s after it empties), stored
// recordings (list/get/delete/copy/file as silent 8 kHz 16-bit mono WAV),
// endpoints, device states with DeviceStateChanged, asterisk info/ping and
// global variables, Restart and DropWebsockets.
//
// # Checked against Asterisk
//
// ari/contract_test.go runs the same scenarios against this double
// (TestContract) and a real Asterisk 22 started by StartAsterisk
// (TestAsteriskContract); Targets gives other packages both. Behaviour
// aligned with Asterisk 22.10.1 that way: the application is registered
// before the websocket handshake completes; a ChannelVarset STASISSTATUS=""
// precedes every StasisStart; BRIDGEPEER is set (ChannelVarset) on every
// member when a bridge has two or more channels and cleared on the leaving
// channel before its ChannelLeftBridge; BridgeDestroyed reaches only apps
// subscribed to the bridge itself (membership subscriptions end with
// ChannelLeftBridge); an originate or dial timeout ends the channel with
// cause 19 and no NOANSWER Dial event; a Local channel whose dialplan answers
// at once never rings; a busy Local ;1 is destroyed with cause 0; Local
// pairs hang up in the observed order (;2 destroyed before ;1 when ;1 is hung
// up — Asterisk itself varies here); recording files have the exact captured
// length and LiveRecording.duration is truncated to whole seconds.
//
// Known remaining differences: Restart models a crash (no events), whereas a
// real Asterisk stopped gracefully (SIGTERM, as Asterisk.Restart does) first
// hangs up every channel, so ChannelHangupRequest/StasisEnd/ChannelDestroyed
// arrive before the websocket closes; Asterisk sends ChannelHangupRequest
// twice on a Local ;2 and ChannelDialplan events, which the double does not;
// BRIDGEPEER ordering among members differs.
//
// # Not modelled
//
// Audio content (mute, holding-bridge announcer-only audio and whisper are
// state only; recordings are silence), maxSilenceSeconds trimming, beep,
// redirect (modelled as hang-up), externalMedia, transfer events
// (ChannelTransfer, BridgeBlind/AttendedTransfer), eventFilter, bridge
// variables endpoints, multiple-channel variable GET, ChannelDialplan,
// ChannelCallerId and ChannelConnectedLine events, bridge MOH announcer
// channels, duplicate Started/Finished events seen on real bridges.
package aritest
