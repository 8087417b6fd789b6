// Package dialer is ctid's live outbound dialler: it turns outbound
// campaigns and their lead lists into calls through the CTI engine (preview
// offers to Ready agents, predictive/progressive originations paced by
// dialer/pacing), records every attempt and its outcome, schedules retries
// and next numbers, and presents due callbacks.
//
// A Worker is driven by github.com/robfig/cron/v3 (with seconds): one job
// every 2 seconds per active outbound campaign (TickCampaign) and a minute
// job (Minute) for due callbacks of every campaign, inbound ones included,
// stale claims and the set of campaign jobs. Leads are claimed with
// SELECT … FOR UPDATE SKIP LOCKED and marked "dialling" in the same
// statement, so several ctid instances sharing a database never dial the
// same lead twice. Calling windows are evaluated in each lead's time zone
// by Postgres (the campaign's zone when the lead's is unknown).
//
// Answering-machine detection (settings "amd"): an answered call goes to
// the dialplan's [dialer-amd] (Asterisk AMD()) and back to ctid with the
// verdict; a machine is hung up on or left the campaign's message after
// the beep ([dialer-amd-message]); NOTSURE is treated as a person; the
// estimated share of machine verdicts that were people counts as abandoned
// (Ofcom). Compliance (compliance.go): the abandon rate per campaign over
// 24 h (Ofcom) and 30 days (US TSR) from dialer_attempts (Worker.Compliance,
// GET /api/v1/admin/campaigns/{id}/dialer/compliance); a predictive
// campaign at its cap dials progressively, without AMD, on its own; a
// number is dialled at most maxDailyAttemptsPerNumber times a day.
//
// Campaign settings live in campaigns.settings → "dialer" (ParseSettings);
// the abandon rate is counted from dialer_attempts, so it is shared by all
// instances and survives restarts, and a restarted predictive pacer is
// warmed up from the last day's attempts and wrapped interactions.
//
// Wiring (cmd/ctid):
//
//	var dw *dialer.Worker
//	opts.Outcome = func(o cti.AttemptOutcome) { dw.Outcome(o) }
//	eng := cti.New(opts)
//	dw, err = dialer.New(dialer.Config{DB: db, Engine: eng, Logger: log})
//	// … assign dw before starting eng.Run / eng.Pump …
//	dw.Start(ctx)
//	defer dw.Stop() // before the engine and the database go away
//
// The HTTP layer uses CreateCallback, GetCallback, ListCallbacks,
// CancelCallback and ParseSettings (to validate a campaign edit; errors are
// SettingsErrors / ValidationError with the offending field); the
// dialplan's "Request a callback" step uses StasisCallback.
package dialer
