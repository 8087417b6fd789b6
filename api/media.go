package api

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/ctid/ctid/ari"
	"github.com/ctid/ctid/cti"
)

// RecordingStore downloads stored recordings from Asterisk (the ARI
// client's Recordings).
type RecordingStore interface {
	DownloadStored(ctx context.Context, name string) (io.ReadCloser, error)
}

// --- recordings for reviewers -----------------------------------------------------

// RecordingView is a recording with its bookmarks and pause/resume audit.
type RecordingView struct {
	Name          string               `json:"name"`
	InteractionID string               `json:"interactionId"`
	State         string               `json:"state"`
	StartedAt     *time.Time           `json:"startedAt,omitempty"`
	EndedAt       *time.Time           `json:"endedAt,omitempty"`
	DurationMs    int64                `json:"durationMs"`
	Format        string               `json:"format"`
	File          string               `json:"file"`
	Bookmarks     []BookmarkView       `json:"bookmarks"`
	Events        []RecordingEventView `json:"events"`
}

// RecordingEventView is one audited recording action (pause, resume, …):
// who (absent for system actions such as payment capture) and when.
type RecordingEventView struct {
	Action   string    `json:"action"`
	Reason   string    `json:"reason"`
	UserID   *int64    `json:"userId,omitempty"`
	Username string    `json:"username,omitempty"`
	At       time.Time `json:"at"`
}

// visibleRecordings is the SQL condition (on recordings r) for what the
// user may see: admins and reviewers everything, supervisors the campaigns
// they supervise, an agent only
// recordings of interactions they handled (directly or as the agent a call
// was transferred to, whose interaction is a child of the recorded one).
func visibleRecordings(u int64, role cti.Role) (string, []any) {
	switch role {
	case cti.RoleAdmin, cti.RoleReviewer:
		return "TRUE", nil
	case cti.RoleSupervisor:
		// The campaigns they supervise, as in the call history (issue 13).
		return `r.interaction_id IN (SELECT i.id FROM interactions i
			JOIN supervisor_campaigns sc ON sc.campaign_id = i.campaign_id WHERE sc.user_id = ?)`, []any{u}
	}
	return `r.interaction_id IN (SELECT id FROM interactions WHERE agent_id = ?
		UNION SELECT parent_id FROM interactions WHERE agent_id = ? AND parent_id IS NOT NULL)`, []any{u, u}
}

func (s *Server) listRecordings(c *fiber.Ctx) error {
	u := currentUser(c)
	iid := c.Query("interactionId")
	if len(iid) > 128 {
		return badField("interactionId", "interactionId is too long")
	}
	cond, args := visibleRecordings(u.ID, u.Role)
	q := `SELECT r.name, r.interaction_id, r.state, r.started_at, r.ended_at, r.duration_ms, r.format
		FROM recordings r WHERE ` + cond
	if iid != "" {
		q += ` AND r.interaction_id = ?`
		args = append(args, iid)
	}
	q += ` ORDER BY r.started_at DESC NULLS LAST, r.name LIMIT 200`
	ctx, cancel := s.ctx(c)
	defer cancel()
	db := s.o.DB.WithContext(ctx)
	var rows []struct {
		Name, InteractionID, State, Format string
		StartedAt, EndedAt                 *time.Time
		DurationMs                         int64
	}
	if err := db.Raw(q, args...).Scan(&rows).Error; err != nil {
		return err
	}
	out := make([]RecordingView, 0, len(rows))
	idx := map[string]int{}
	names := []string{}
	for _, r := range rows {
		idx[r.Name] = len(out)
		names = append(names, r.Name)
		out = append(out, RecordingView{Name: r.Name, InteractionID: r.InteractionID, State: r.State, StartedAt: utc(r.StartedAt),
			EndedAt: utc(r.EndedAt), DurationMs: r.DurationMs, Format: r.Format,
			File: "/api/v1/recordings/" + r.Name + "/file", Bookmarks: []BookmarkView{}, Events: []RecordingEventView{}})
	}
	if len(names) > 0 {
		var bms []struct {
			RecordingName, InteractionID, Note string
			OffsetMs                           int64
			UserID                             *int64
			Username                           *string
			CreatedAt                          time.Time
		}
		if err := db.Raw(`SELECT b.recording_name, b.interaction_id, b.note, b.offset_ms, b.user_id, u.username, b.created_at
			FROM bookmarks b LEFT JOIN users u ON u.id = b.user_id WHERE b.recording_name IN ? ORDER BY b.offset_ms, b.id`, names).Scan(&bms).Error; err != nil {
			return err
		}
		for _, b := range bms {
			v := BookmarkView{RecordingName: b.RecordingName, InteractionID: b.InteractionID, OffsetMs: b.OffsetMs, Note: b.Note, At: b.CreatedAt.UTC()}
			if b.UserID != nil {
				v.UserID = *b.UserID
			}
			if b.Username != nil {
				v.Username = *b.Username
			}
			out[idx[b.RecordingName]].Bookmarks = append(out[idx[b.RecordingName]].Bookmarks, v)
		}
		var evs []struct {
			RecordingName, Action, Reason string
			UserID                        *int64
			Username                      *string
			At                            time.Time
		}
		if err := db.Raw(`SELECT e.recording_name, e.action, e.reason, e.user_id, u.username, e.at
			FROM recording_events e LEFT JOIN users u ON u.id = e.user_id WHERE e.recording_name IN ? ORDER BY e.id`, names).Scan(&evs).Error; err != nil {
			return err
		}
		for _, e := range evs {
			v := RecordingEventView{Action: e.Action, Reason: e.Reason, UserID: e.UserID, At: e.At.UTC()}
			if e.Username != nil {
				v.Username = *e.Username
			}
			out[idx[e.RecordingName]].Events = append(out[idx[e.RecordingName]].Events, v)
		}
	}
	return c.JSON(out)
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// cancelOnClose cancels the download's context once the response body has
// been sent (fasthttp closes a body stream that is an io.Closer).
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (r cancelOnClose) Close() error { err := r.ReadCloser.Close(); r.cancel(); return err }

// recordingFile streams a stored recording from Asterisk. Recordings the
// user may not see answer 404, like ones that do not exist.
func (s *Server) recordingFile(c *fiber.Ctx) error {
	name := c.Params("name")
	if name == "" || len(name) > 200 {
		return newProblem(404, "no such recording")
	}
	u := currentUser(c)
	cond, args := visibleRecordings(u.ID, u.Role)
	var format string
	ctx, cancel := s.ctx(c)
	err := s.o.DB.WithContext(ctx).Raw(`SELECT r.format FROM recordings r WHERE r.name = ? AND `+cond,
		append([]any{name}, args...)...).Scan(&format).Error
	cancel()
	if err != nil {
		return err
	}
	if format == "" {
		return newProblem(404, "no such recording")
	}
	if s.o.Recordings == nil {
		return newProblem(503, "recording download is not configured")
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Minute)
	body, err := s.o.Recordings.DownloadStored(dctx, name)
	if err != nil {
		dcancel()
		if errors.Is(err, ari.ErrNotFound) {
			return newProblem(404, "the recording file is not on the media server")
		}
		s.log.Error("download recording", "name", name, "err", err, "request_id", c.Locals(localRequestID))
		return newProblem(503, "the media server did not provide the recording")
	}
	ct := "audio/wav"
	if format != "wav" {
		ct = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`.`+format+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.SendStream(cancelOnClose{body, dcancel})
}

// --- announcements (admin) -----------------------------------------------------------

// AnnouncementRecord is a campaign announcement as admins see it.
type AnnouncementRecord struct {
	ID         int64     `json:"id"`
	CampaignID int64     `json:"campaignId"`
	Name       string    `json:"name"`
	Media      string    `json:"media"` // sound:… for an Asterisk sound; empty for an upload
	Uploaded   bool      `json:"uploaded"`
	Size       int       `json:"size"` // bytes of an uploaded WAV
	CreatedAt  time.Time `json:"createdAt"`
}

const maxAnnouncementBytes = 5 << 20

var soundURI = regexp.MustCompile(`^sound:[A-Za-z0-9_][A-Za-z0-9_/.-]{0,200}$`)

func (s *Server) campaignExists(ctx context.Context, id int64) error {
	var n int64
	if err := s.o.DB.WithContext(ctx).Raw(`SELECT count(*) FROM campaigns WHERE id = ?`, id).Scan(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return newProblem(404, "no such campaign")
	}
	return nil
}

func (s *Server) listAnnouncements(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.campaignExists(ctx, id); err != nil {
		return err
	}
	l, err := s.announcements(ctx, id, 0)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (s *Server) announcements(ctx context.Context, campaign, id int64) ([]AnnouncementRecord, error) {
	q := `SELECT id, campaign_id, name, media, token <> '' AS uploaded, coalesce(length(wav), 0) AS size, created_at
		FROM announcements WHERE campaign_id = ?`
	args := []any{campaign}
	if id != 0 {
		q += ` AND id = ?`
		args = append(args, id)
	}
	var l []AnnouncementRecord
	if err := s.o.DB.WithContext(ctx).Raw(q+` ORDER BY id`, args...).Scan(&l).Error; err != nil {
		return nil, err
	}
	if l == nil {
		l = []AnnouncementRecord{}
	}
	for i := range l {
		l[i].CreatedAt = l[i].CreatedAt.UTC()
	}
	return l, nil
}

type announcementRequest struct {
	Name  string `json:"name"`
	Media string `json:"media"`
}

// createAnnouncement takes JSON {name, media:"sound:…"} naming an Asterisk
// sound, or a multipart form with name and file (a WAV: PCM 16-bit mono,
// 8 or 16 kHz, at most 5 MB) that ctid stores and serves to Asterisk.
func (s *Server) createAnnouncement(c *fiber.Ctx) error {
	cid, err := idParam(c)
	if err != nil {
		return err
	}
	var name, media string
	var wav []byte
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if mt == "multipart/form-data" {
		form, err := c.MultipartForm()
		if err != nil {
			return newProblem(400, "malformed multipart form: "+err.Error())
		}
		if p := checkForm(form.Value); p != nil {
			return p
		}
		if v := form.Value["name"]; len(v) == 1 {
			name = v[0]
		}
		files := form.File["file"]
		if len(files) != 1 {
			return badField("file", "send one WAV file in the form field 'file'")
		}
		if files[0].Size > maxAnnouncementBytes {
			return badField("file", "the file is larger than 5 MB")
		}
		f, err := files[0].Open()
		if err != nil {
			return err
		}
		wav, err = io.ReadAll(io.LimitReader(f, maxAnnouncementBytes+1))
		f.Close()
		if err != nil {
			return err
		}
		if len(wav) > maxAnnouncementBytes {
			return badField("file", "the file is larger than 5 MB")
		}
		if err := checkWAV(wav); err != nil {
			return badField("file", err.Error())
		}
	} else {
		if len(c.Body()) > s.o.BodyLimit {
			return newProblem(413, "request body too large")
		}
		var req announcementRequest
		if err := decode(c, &req, false); err != nil {
			return err
		}
		name, media = req.Name, req.Media
		if !soundURI.MatchString(media) || strings.Contains(media, "..") {
			return badField("media", "media must be an Asterisk sound such as sound:tt-monkeys (or upload a WAV as multipart/form-data)")
		}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return badField("name", "name is required")
	}
	if len(name) > 100 {
		return badField("name", "name is limited to 100 characters")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	if err := s.campaignExists(ctx, cid); err != nil {
		return err
	}
	token := ""
	if wav != nil {
		b := make([]byte, 24)
		rand.Read(b)
		token = hex.EncodeToString(b)
	}
	var id int64
	err = s.o.DB.WithContext(ctx).Raw(`INSERT INTO announcements(campaign_id, name, media, wav, token) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (campaign_id, name) DO NOTHING RETURNING id`, cid, name, media, wav, token).Scan(&id).Error
	if err != nil {
		return err
	}
	if id == 0 {
		return newProblem(409, "the campaign already has an announcement named "+strconv.Quote(name))
	}
	l, err := s.announcements(ctx, cid, id)
	if err != nil || len(l) != 1 {
		return errors.Join(err, errors.New("announcement vanished"))
	}
	s.reload(c)
	c.Location("/api/v1/admin/campaigns/" + strconv.FormatInt(cid, 10) + "/announcements/" + strconv.FormatInt(id, 10))
	return c.Status(fiber.StatusCreated).JSON(l[0])
}

func (s *Server) deleteAnnouncement(c *fiber.Ctx) error {
	cid, err := idParam(c)
	if err != nil {
		return err
	}
	aid, err := strconv.ParseInt(c.Params("aid"), 10, 64)
	if err != nil || aid <= 0 {
		return newProblem(404, "no such announcement")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	res := s.o.DB.WithContext(ctx).Exec(`DELETE FROM announcements WHERE id = ? AND campaign_id = ?`, aid, cid)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return newProblem(404, "no such announcement")
	}
	s.reload(c)
	return c.SendStatus(fiber.StatusNoContent)
}

var mediaToken = regexp.MustCompile(`^[0-9a-f]{48}$`)

// mediaFile serves an uploaded announcement to Asterisk. The URL is a
// capability: the random token is the only credential.
func (s *Server) mediaFile(c *fiber.Ctx) error {
	tok := c.Params("token")
	if !mediaToken.MatchString(tok) {
		return newProblem(404, "no such media")
	}
	ctx, cancel := s.ctx(c)
	defer cancel()
	var wav []byte
	if err := s.o.DB.WithContext(ctx).Raw(`SELECT wav FROM announcements WHERE token = ? AND wav IS NOT NULL`, tok).Row().Scan(&wav); err != nil || len(wav) == 0 {
		return newProblem(404, "no such media")
	}
	c.Set(fiber.HeaderContentType, "audio/wav")
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	return c.Send(wav)
}

// checkWAV accepts RIFF/WAVE, PCM, 16-bit, mono, 8000 or 16000 Hz, with
// audio data: what Asterisk plays without transcoding surprises.
func checkWAV(b []byte) error {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return errors.New("not a WAV file (no RIFF/WAVE header)")
	}
	var fmtOK, haveFmt bool
	var fmtErr string
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:p+8]))
		body := b[p+8:]
		if size < 0 || size > len(body) {
			if id == "data" && haveFmt && fmtOK && len(body) > 0 {
				return nil // truncated data size (streamed writers); the audio is there
			}
			return errors.New("truncated WAV file (chunk " + strconv.Quote(id) + ")")
		}
		body = body[:size]
		switch id {
		case "fmt ":
			haveFmt = true
			if size < 16 {
				return errors.New("malformed WAV fmt chunk")
			}
			format := binary.LittleEndian.Uint16(body[0:2])
			channels := binary.LittleEndian.Uint16(body[2:4])
			rate := binary.LittleEndian.Uint32(body[4:8])
			bits := binary.LittleEndian.Uint16(body[14:16])
			switch {
			case format != 1:
				fmtErr = "the WAV must be PCM (format 1), not format " + strconv.Itoa(int(format))
			case channels != 1:
				fmtErr = "the WAV must be mono, not " + strconv.Itoa(int(channels)) + " channels"
			case bits != 16:
				fmtErr = "the WAV must be 16-bit, not " + strconv.Itoa(int(bits)) + "-bit"
			case rate != 8000 && rate != 16000:
				fmtErr = "the WAV must be 8000 or 16000 Hz, not " + strconv.Itoa(int(rate)) + " Hz"
			default:
				fmtOK = true
			}
			if !fmtOK {
				return errors.New(fmtErr)
			}
		case "data":
			if !haveFmt {
				return errors.New("malformed WAV: data before fmt")
			}
			if size == 0 {
				return errors.New("the WAV has no audio")
			}
			return nil
		}
		p += 8 + size + size&1
	}
	if !haveFmt {
		return errors.New("malformed WAV: no fmt chunk")
	}
	return errors.New("malformed WAV: no data chunk")
}
