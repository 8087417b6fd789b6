package aritest

import (
	"encoding/binary"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ---------------------------------------------------------------------------
// playbacks

type playback struct {
	id       string
	medias   []string
	idx      int
	lang     string
	state    string
	ch       *channel
	br       *bridge
	timer    Stopper
	started  time.Time
	dur      time.Duration // of current media, -1 = indefinite
	remain   time.Duration // when paused
	offsetMs int
}

func (p *playback) stopTimer() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

func (p *playback) target() string {
	if p.ch != nil {
		return "channel:" + p.ch.id
	}
	return "bridge:" + p.br.id
}

type playbackJSON struct {
	ID           string `json:"id"`
	MediaURI     string `json:"media_uri"`
	NextMediaURI string `json:"next_media_uri,omitempty"`
	TargetURI    string `json:"target_uri"`
	Language     string `json:"language,omitempty"`
	State        string `json:"state"`
}

func (s *Server) playbackJSON(p *playback) playbackJSON {
	j := playbackJSON{ID: p.id, MediaURI: p.medias[p.idx], TargetURI: p.target(), Language: p.lang, State: p.state}
	if p.idx+1 < len(p.medias) {
		j.NextMediaURI = p.medias[p.idx+1]
	}
	return j
}

func (s *Server) emitPlayback(p *playback, typ string) {
	ev := s.newEvent(typ)
	ev["playback"] = s.playbackJSON(p)
	if p.ch != nil {
		s.deliver(ev, p.ch.subs)
	} else {
		s.deliver(ev, p.br.subs)
	}
}

// mediaDuration models how long a media URI plays; -1 means until stopped,
// ok=false means the media cannot be played (PlaybackFinished "failed").
func (s *Server) mediaDuration(uri string) (time.Duration, bool) {
	scheme, rest, found := strings.Cut(uri, ":")
	if !found {
		return 0, false
	}
	secs := func(str string) (time.Duration, bool) {
		f, err := strconv.ParseFloat(str, 64)
		if err != nil || f < 0 {
			return 0, false
		}
		return time.Duration(f * float64(time.Second)), true
	}
	switch scheme {
	case "sound":
		if rest == "beep" {
			return 500 * time.Millisecond, true
		}
		if n, ok := strings.CutPrefix(rest, "silence/"); ok {
			if d, ok := secs(n); ok {
				return d, true
			}
		}
		if rest == "" {
			return 0, false
		}
		return 2 * time.Second, true
	case "tone":
		if i := strings.LastIndexByte(rest, '/'); i >= 0 {
			if d, ok := secs(rest[i+1:]); ok {
				return d, true
			}
		}
		if rest == "" {
			return 0, false
		}
		return -1, true
	case "recording":
		st := s.stored[rest]
		if st == nil {
			return 0, false
		}
		return st.dur, true
	case "digits", "characters", "number":
		if rest == "" {
			return 0, false
		}
		return time.Duration(len(rest)) * 500 * time.Millisecond, true
	}
	return 0, false
}

func (s *Server) queuePlayback(p *playback, queue *[]*playback) {
	s.playbacks[p.id] = p
	*queue = append(*queue, p)
	if len(*queue) == 1 {
		s.startPlayback(p)
	}
}

func (s *Server) startPlayback(p *playback) {
	d, ok := s.mediaDuration(p.medias[p.idx])
	if !ok {
		s.finishPlayback(p, true)
		return
	}
	p.state = "playing"
	if p.idx == 0 {
		s.emitPlayback(p, "PlaybackStarted")
	} else {
		s.emitPlayback(p, "PlaybackContinuing")
	}
	offset := time.Duration(p.offsetMs) * time.Millisecond
	p.offsetMs = 0
	p.dur = d
	if d >= 0 {
		if offset > d {
			offset = d
		}
		p.runFor(s, d-offset)
	}
}

func (p *playback) runFor(s *Server, d time.Duration) {
	p.started = s.clock.Now().Add(-(p.dur - d))
	p.timer = s.after(d, func() { s.mediaDone(p) })
}

func (s *Server) mediaDone(p *playback) {
	if p.state != "playing" || s.playbacks[p.id] != p {
		return
	}
	p.timer = nil
	if p.idx+1 < len(p.medias) {
		p.idx++
		s.startPlayback(p)
		return
	}
	s.finishPlayback(p, false)
}

func (s *Server) finishPlayback(p *playback, failed bool) {
	if s.playbacks[p.id] != p {
		return
	}
	p.stopTimer()
	delete(s.playbacks, p.id)
	p.state = "done"
	if failed {
		p.state = "failed"
	}
	s.emitPlayback(p, "PlaybackFinished")
	var queue *[]*playback
	if p.ch != nil {
		queue = &p.ch.playQueue
	} else {
		queue = &p.br.playQueue
	}
	wasHead := len(*queue) > 0 && (*queue)[0] == p
	for i, x := range *queue {
		if x == p {
			*queue = append((*queue)[:i], (*queue)[i+1:]...)
			break
		}
	}
	if wasHead && len(*queue) > 0 {
		s.startPlayback((*queue)[0])
	}
}

func (s *Server) newPlayback(p params, r *http.Request) (*playback, *apiError) {
	medias := p.list("media")
	if len(medias) == 0 {
		return nil, errf(400, "Missing parameter media")
	}
	id := r.PathValue("playbackId")
	if id == "" {
		id = p.get("playbackId")
	}
	if id == "" {
		id = newUUID()
	}
	if s.playbacks[id] != nil {
		return nil, errf(409, "Playback with id '%s' already exists", id)
	}
	off, err := p.int("offsetms", 0)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, errf(400, "offsetms cannot be negative")
	}
	if sk, _ := p.int("skipms", 3000); sk < 0 {
		return nil, errf(400, "skipms cannot be negative")
	}
	lang := p.get("lang")
	if lang == "" {
		lang = "en"
	}
	return &playback{id: id, medias: medias, lang: lang, state: "queued", offsetMs: off}, nil
}

func (s *Server) playChannel(p params, r *http.Request) (int, any, *apiError) {
	c, err := s.control(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	pb, err := s.newPlayback(p, r)
	if err != nil {
		return 0, nil, err
	}
	pb.ch = c
	s.notePlayed(c.id, pb.medias)
	resp := s.playbackJSON(pb)
	s.queuePlayback(pb, &c.playQueue)
	return 201, resp, nil
}

func (s *Server) playBridge(p params, r *http.Request) (int, any, *apiError) {
	b, err := s.findBridge(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	pb, err := s.newPlayback(p, r)
	if err != nil {
		return 0, nil, err
	}
	pb.br = b
	s.notePlayed(b.id, pb.medias)
	resp := s.playbackJSON(pb)
	s.queuePlayback(pb, &b.playQueue)
	return 201, resp, nil
}

func (s *Server) getPlayback(p params, r *http.Request) (int, any, *apiError) {
	pb := s.playbacks[r.PathValue("id")]
	if pb == nil {
		return 0, nil, errf(404, "Playback not found")
	}
	return 200, s.playbackJSON(pb), nil
}

func (s *Server) stopPlayback(p params, r *http.Request) (int, any, *apiError) {
	pb := s.playbacks[r.PathValue("id")]
	if pb == nil {
		return 0, nil, errf(404, "Playback not found")
	}
	s.finishPlayback(pb, false)
	return 204, nil, nil
}

func (s *Server) controlPlayback(p params, r *http.Request) (int, any, *apiError) {
	op := p.get("operation")
	if op == "" {
		return 0, nil, errf(400, "Missing operation")
	}
	switch op {
	case "restart", "pause", "unpause", "reverse", "forward":
	default:
		return 0, nil, errf(400, "Invalid operation %s", op)
	}
	pb := s.playbacks[r.PathValue("id")]
	if pb == nil {
		return 0, nil, errf(404, "Playback not found")
	}
	now := s.clock.Now()
	switch op {
	case "pause":
		if pb.state != "playing" {
			return 0, nil, errf(409, "Can only %s while media is playing", op)
		}
		pb.stopTimer()
		pb.remain = -1
		if pb.dur >= 0 {
			pb.remain = pb.dur - now.Sub(pb.started)
		}
		pb.state = "paused"
	case "unpause":
		if pb.state != "paused" {
			return 0, nil, errf(409, "Can only %s while media is playing", op)
		}
		pb.state = "playing"
		if pb.remain >= 0 {
			pb.runFor(s, pb.remain)
		}
	case "restart", "reverse", "forward":
		if pb.state != "playing" {
			return 0, nil, errf(409, "Can only %s while media is playing", op)
		}
		if pb.dur < 0 {
			break
		}
		pos := now.Sub(pb.started)
		switch op {
		case "restart":
			pos = 0
		case "reverse":
			pos -= 3 * time.Second
		case "forward":
			pos += 3 * time.Second
		}
		if pos < 0 {
			pos = 0
		}
		if pos > pb.dur {
			pos = pb.dur
		}
		pb.stopTimer()
		pb.runFor(s, pb.dur-pos)
	}
	return 204, nil, nil
}

// ---------------------------------------------------------------------------
// recordings

type liveRecording struct {
	name, format string
	ch           *channel
	br           *bridge
	state        string
	acc          time.Duration
	since        time.Time
	running      bool
	muted        bool
	terminateOn  string
	base         time.Duration // appended-to duration
	timers       []Stopper
	empty        Stopper
	muteAcc      time.Duration
}

func (r *liveRecording) stopTimers() {
	for _, t := range r.timers {
		if t != nil {
			t.Stop()
		}
	}
	r.timers = nil
	if r.empty != nil {
		r.empty.Stop()
		r.empty = nil
	}
}

func (r *liveRecording) target() string {
	if r.ch != nil {
		return "channel:" + r.ch.id
	}
	return "bridge:" + r.br.id
}

// update accumulates recorded time up to now and re-evaluates whether audio
// is being captured: not paused, and for a bridge only while it has channels.
func (r *liveRecording) update(now time.Time) {
	if r.running {
		r.acc += now.Sub(r.since)
	}
	r.running = r.state == "recording" && (r.br == nil || len(r.br.chans) > 0)
	r.since = now
}

// length is the recorded length so far (the file's length).
func (r *liveRecording) length() time.Duration { return r.base + r.acc }

// seconds is LiveRecording.duration: whole seconds, truncated, as
// ast_play_and_record computes it (file samples / 8000).
func (r *liveRecording) seconds() int {
	return int(r.length() / time.Second)
}

type liveRecordingJSON struct {
	Name      string `json:"name"`
	Format    string `json:"format"`
	State     string `json:"state"`
	TargetURI string `json:"target_uri"`
	Duration  *int   `json:"duration,omitempty"`
	Cause     string `json:"cause,omitempty"`
}

func (s *Server) recJSON(r *liveRecording) liveRecordingJSON {
	j := liveRecordingJSON{Name: r.name, Format: r.format, State: r.state, TargetURI: r.target()}
	switch r.state {
	case "done", "canceled", "failed":
		d := r.seconds()
		j.Duration = &d
	}
	return j
}

func (s *Server) emitRecording(r *liveRecording, typ string) {
	ev := s.newEvent(typ)
	ev["recording"] = s.recJSON(r)
	if r.ch != nil {
		s.deliver(ev, r.ch.subs)
	} else {
		s.deliver(ev, r.br.subs)
	}
}

type storedRecording struct {
	name, format string
	dur          time.Duration
}

func (s *Server) startRecording(p params, ch *channel, br *bridge) (int, any, *apiError) {
	name := p.get("name")
	format := p.get("format")
	if format == "" {
		return 0, nil, errf(400, "format cannot be empty")
	}
	if name == "" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return 0, nil, errf(400, "Recording name invalid")
	}
	maxDur, err := p.int("maxDurationSeconds", 0)
	if err != nil {
		return 0, nil, err
	}
	if maxDur < 0 {
		return 0, nil, errf(400, "max_duration_seconds cannot be negative")
	}
	maxSil, err := p.int("maxSilenceSeconds", 0)
	if err != nil {
		return 0, nil, err
	}
	if maxSil < 0 {
		return 0, nil, errf(400, "max_silence_seconds cannot be negative")
	}
	ifExists := p.get("ifExists")
	if ifExists == "" {
		ifExists = "fail"
	}
	switch ifExists {
	case "fail", "overwrite", "append":
	default:
		return 0, nil, errf(400, "ifExists invalid")
	}
	term := p.get("terminateOn")
	if term == "" {
		term = "none"
	}
	switch term {
	case "none", "any", "*", "#":
	default:
		return 0, nil, errf(400, "terminateOn invalid")
	}
	if s.recordings[name] != nil || (s.stored[name] != nil && ifExists == "fail") {
		return 0, nil, errf(409, "Recording '%s' already exists and can not be overwritten", name)
	}
	rec := &liveRecording{name: name, format: format, ch: ch, br: br, state: "queued", terminateOn: term}
	if st := s.stored[name]; st != nil && ifExists == "append" {
		rec.base = st.dur
	}
	resp := s.recJSON(rec)
	s.recordings[name] = rec
	if ch != nil {
		ch.recs = append(ch.recs, rec)
	} else {
		br.recs = append(br.recs, rec)
	}
	rec.state = "recording"
	rec.update(s.clock.Now())
	s.emitRecording(rec, "RecordingStarted")
	if maxDur > 0 {
		rec.timers = append(rec.timers, s.clock.AfterFunc(time.Duration(maxDur)*time.Second, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.recordings[rec.name] == rec {
				s.finishRecording(rec, "done")
			}
		}))
	}
	if br != nil {
		s.bridgeRecordingCheck(rec)
	}
	return 201, resp, nil
}

// bridgeMembershipChanged updates bridge recordings: they capture only while
// the bridge has channels and give up 4 s after it empties ("No audio
// available", main/app.c).
func (s *Server) bridgeMembershipChanged(b *bridge) {
	for _, r := range b.recs {
		s.bridgeRecordingCheck(r)
	}
}

func (s *Server) bridgeRecordingCheck(r *liveRecording) {
	r.update(s.clock.Now())
	if len(r.br.chans) == 0 {
		if r.empty == nil {
			r.empty = s.clock.AfterFunc(4*time.Second, func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				if s.recordings[r.name] == r {
					s.finishRecording(r, "done")
				}
			})
		}
	} else if r.empty != nil {
		r.empty.Stop()
		r.empty = nil
	}
}

func (s *Server) finishRecording(r *liveRecording, state string) {
	if s.recordings[r.name] != r {
		return
	}
	r.update(s.clock.Now())
	r.running = false
	r.stopTimers()
	r.state = state
	delete(s.recordings, r.name)
	if r.ch != nil {
		r.ch.recs = removeRec(r.ch.recs, r)
	} else {
		r.br.recs = removeRec(r.br.recs, r)
	}
	switch state {
	case "done":
		s.stored[r.name] = &storedRecording{name: r.name, format: r.format,
			dur: r.length()}
		s.emitRecording(r, "RecordingFinished")
	case "canceled":
		delete(s.stored, r.name)
		s.emitRecording(r, "RecordingFinished")
	default:
		s.emitRecording(r, "RecordingFailed")
	}
}

func removeRec(l []*liveRecording, r *liveRecording) []*liveRecording {
	out := l[:0]
	for _, x := range l {
		if x != r {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) finishChannelRecordings(c *channel) {
	for len(c.recs) > 0 {
		s.finishRecording(c.recs[0], "done")
	}
}

func (s *Server) recordingsSawDigit(c *channel, digit string) {
	recs := append([]*liveRecording(nil), c.recs...)
	for _, r := range recs {
		if r.terminateOn == "any" || r.terminateOn == digit {
			s.finishRecording(r, "done")
		}
	}
}

func (s *Server) recordChannel(p params, r *http.Request) (int, any, *apiError) {
	c, err := s.control(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return s.startRecording(p, c, nil)
}

func (s *Server) recordBridge(p params, r *http.Request) (int, any, *apiError) {
	b, err := s.findBridge(r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return s.startRecording(p, nil, b)
}

func (s *Server) liveRec(r *http.Request) (*liveRecording, *apiError) {
	rec := s.recordings[r.PathValue("name")]
	if rec == nil {
		return nil, errf(404, "Recording not found")
	}
	return rec, nil
}

func (s *Server) getLive(p params, r *http.Request) (int, any, *apiError) {
	rec, err := s.liveRec(r)
	if err != nil {
		return 0, nil, err
	}
	return 200, s.recJSON(rec), nil
}

func (s *Server) liveOp(op string) handlerFunc {
	return func(p params, r *http.Request) (int, any, *apiError) {
		rec, err := s.liveRec(r)
		if err != nil {
			return 0, nil, err
		}
		now := s.clock.Now()
		switch op {
		case "stop":
			s.finishRecording(rec, "done")
		case "cancel":
			s.finishRecording(rec, "canceled")
		case "pause":
			if rec.state != "recording" && rec.state != "paused" {
				return 0, nil, errf(409, "Recording not in session")
			}
			rec.state = "paused"
			rec.update(now)
		case "unpause":
			if rec.state != "recording" && rec.state != "paused" {
				return 0, nil, errf(409, "Recording not in session")
			}
			rec.state = "recording"
			rec.update(now)
		case "mute":
			rec.muted = true
		case "unmute":
			rec.muted = false
		}
		return 204, nil, nil
	}
}

type storedJSON struct {
	Name   string `json:"name"`
	Format string `json:"format"`
}

func (s *Server) listStored(p params, r *http.Request) (int, any, *apiError) {
	out := make([]storedJSON, 0, len(s.stored))
	for _, st := range s.stored {
		out = append(out, storedJSON{st.name, st.format})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return 200, out, nil
}

func (s *Server) getStored(p params, r *http.Request) (int, any, *apiError) {
	st := s.stored[r.PathValue("name")]
	if st == nil {
		return 0, nil, errf(404, "Recording not found")
	}
	return 200, storedJSON{st.name, st.format}, nil
}

func (s *Server) deleteStored(p params, r *http.Request) (int, any, *apiError) {
	name := r.PathValue("name")
	if s.stored[name] == nil {
		return 0, nil, errf(404, "Recording not found")
	}
	delete(s.stored, name)
	return 204, nil, nil
}

func (s *Server) copyStored(p params, r *http.Request) (int, any, *apiError) {
	st := s.stored[r.PathValue("name")]
	if st == nil {
		return 0, nil, errf(404, "Recording not found")
	}
	dst := p.get("destinationRecordingName")
	if dst == "" || strings.Contains(dst, "..") || strings.HasPrefix(dst, "/") {
		return 0, nil, errf(400, "Invalid destination recording name")
	}
	if s.stored[dst] != nil {
		return 0, nil, errf(409, "A recording with the same name already exists on the system")
	}
	cp := *st
	cp.name = dst
	s.stored[dst] = &cp
	return 200, storedJSON{cp.name, cp.format}, nil
}

func (s *Server) storedFile(p params, r *http.Request) (int, any, *apiError) {
	st := s.stored[r.PathValue("name")]
	if st == nil {
		return 0, nil, errf(404, "Recording not found")
	}
	samples := int(st.dur * 8000 / time.Second)
	if st.format == "wav" {
		return 200, rawBody{"audio/wav", silentWAV(samples)}, nil
	}
	return 200, rawBody{"application/octet-stream", make([]byte, samples*2)}, nil
}

// silentWAV returns a PCM 8 kHz 16-bit mono WAV of n samples of silence.
func silentWAV(n int) []byte {
	data := n * 2
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 16000)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	return b
}
