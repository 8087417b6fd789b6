package postgres

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/argon2"
	"gorm.io/gorm"

	"github.com/ctid/ctid/cti"
)

// --- passwords ---------------------------------------------------------------

// PasswordParams are the argon2id cost parameters for new hashes. The
// defaults follow the OWASP minimum (19 MiB, 2 passes, 1 lane); tests may
// lower them. Existing hashes keep the parameters written in their PHC string.
var PasswordParams = struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
	SaltLen int
}{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

// HashPassword returns an argon2id PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func HashPassword(password string) (string, error) {
	p := PasswordParams
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC string, comparing
// in constant time. A malformed hash never matches.
func CheckPassword(phc, password string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	if m == 0 || m > 1<<22 || t == 0 || t > 16 || p == 0 { // refuse absurd costs
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when a username does not exist, so a wrong
// username costs as much time as a wrong password.
var dummyHash, _ = HashPassword("ctid-dummy-password")

// --- users --------------------------------------------------------------------

// Admin is the persistence behind authentication and the admin API: users,
// auth sessions, campaigns, pause reasons and workflows.
type Admin struct{ db *gorm.DB }

// NewAdmin wraps a gorm handle.
func NewAdmin(db *gorm.DB) *Admin { return &Admin{db: db} }

// Account is a user as the admin API shows it (never the password hash).
type Account struct {
	ID                   int64     `json:"id"`
	Username             string    `json:"username"`
	DisplayName          string    `json:"displayName"`
	Role                 cti.Role  `json:"role"`
	DefaultPhone         string    `json:"defaultPhone"`
	ManualCallWhenPaused bool      `json:"manualCallWhenPaused"`
	TransferWhenPaused   bool      `json:"transferWhenPaused"`
	RecordingControl     bool      `json:"recordingControl"`
	Disabled             bool      `json:"disabled"`
	CreatedAt            time.Time `json:"createdAt"`
	CampaignIDs          []int64   `json:"campaignIds"`
}

type accountRow struct {
	ID                   int64
	Username             string
	PasswordHash         string
	DisplayName          string
	Role                 string
	DefaultPhone         string
	ManualCallWhenPaused bool
	TransferWhenPaused   bool
	RecordingControl     bool
	Disabled             bool
	CreatedAt            time.Time
}

func (accountRow) TableName() string { return "users" }

func (r accountRow) account() Account {
	return Account{ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, Role: cti.Role(r.Role),
		DefaultPhone: r.DefaultPhone, ManualCallWhenPaused: r.ManualCallWhenPaused,
		TransferWhenPaused: r.TransferWhenPaused, RecordingControl: r.RecordingControl,
		Disabled: r.Disabled, CreatedAt: r.CreatedAt, CampaignIDs: []int64{}}
}

// NewUser is what creating a user takes.
type NewUser struct {
	Username             string
	Password             string
	DisplayName          string
	Role                 cti.Role
	DefaultPhone         string
	ManualCallWhenPaused bool
	TransferWhenPaused   bool
	RecordingControl     bool
}

// UserPatch changes some fields of a user; nil fields stay as they are.
type UserPatch struct {
	Password             *string
	DisplayName          *string
	Role                 *cti.Role
	DefaultPhone         *string
	ManualCallWhenPaused *bool
	TransferWhenPaused   *bool
	RecordingControl     *bool
	Disabled             *bool
}

// ValidRole reports whether r is one of the four roles.
func ValidRole(r cti.Role) bool {
	return r == cti.RoleAgent || r == cti.RoleSupervisor || r == cti.RoleAdmin || r == cti.RoleReviewer
}

// CreateUser stores a new user with an argon2id password hash.
func (a *Admin) CreateUser(ctx context.Context, u NewUser) (Account, error) {
	name, err := NormalizeUsername(u.Username)
	if err != nil {
		return Account{}, err
	}
	u.Username = name
	if len(u.Password) < 8 {
		return Account{}, &cti.Error{Kind: cti.KindInvalid, Field: "password", Msg: "password must be at least 8 characters"}
	}
	if u.Role == "" {
		u.Role = cti.RoleAgent
	}
	if !ValidRole(u.Role) {
		return Account{}, &cti.Error{Kind: cti.KindInvalid, Field: "role", Msg: "role must be agent, supervisor, reviewer or admin"}
	}
	h, err := HashPassword(u.Password)
	if err != nil {
		return Account{}, err
	}
	row := accountRow{Username: u.Username, PasswordHash: h, DisplayName: u.DisplayName,
		Role: string(u.Role), DefaultPhone: u.DefaultPhone, ManualCallWhenPaused: u.ManualCallWhenPaused,
		TransferWhenPaused: u.TransferWhenPaused, RecordingControl: u.RecordingControl}
	if err := a.db.WithContext(ctx).Create(&row).Error; err != nil {
		return Account{}, dbErr(err, "user")
	}
	return a.User(ctx, row.ID)
}

// User returns one user with their campaign ids.
func (a *Admin) User(ctx context.Context, id int64) (Account, error) {
	var row accountRow
	err := a.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if err != nil {
		return Account{}, dbErr(err, "user")
	}
	acc := row.account()
	if err := a.db.WithContext(ctx).Table("campaign_agents").Where("user_id = ?", id).
		Order("campaign_id").Pluck("campaign_id", &acc.CampaignIDs).Error; err != nil {
		return Account{}, err
	}
	if acc.CampaignIDs == nil {
		acc.CampaignIDs = []int64{}
	}
	return acc, nil
}

// Users lists every user, ordered by id.
func (a *Admin) Users(ctx context.Context) ([]Account, error) {
	var rows []accountRow
	if err := a.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	var members []struct{ CampaignID, UserID int64 }
	if err := a.db.WithContext(ctx).Table("campaign_agents").Order("campaign_id").Find(&members).Error; err != nil {
		return nil, err
	}
	out := make([]Account, len(rows))
	idx := map[int64]int{}
	for i, r := range rows {
		out[i] = r.account()
		idx[r.ID] = i
	}
	for _, m := range members {
		if i, ok := idx[m.UserID]; ok {
			out[i].CampaignIDs = append(out[i].CampaignIDs, m.CampaignID)
		}
	}
	return out, nil
}

// UpdateUser applies a patch. Disabling a user (or changing their password)
// revokes their auth sessions.
func (a *Admin) UpdateUser(ctx context.Context, id int64, p UserPatch) (Account, error) {
	set := map[string]any{}
	if p.Password != nil {
		if len(*p.Password) < 8 {
			return Account{}, &cti.Error{Kind: cti.KindInvalid, Field: "password", Msg: "password must be at least 8 characters"}
		}
		h, err := HashPassword(*p.Password)
		if err != nil {
			return Account{}, err
		}
		set["password_hash"] = h
	}
	if p.DisplayName != nil {
		set["display_name"] = *p.DisplayName
	}
	if p.Role != nil {
		if !ValidRole(*p.Role) {
			return Account{}, &cti.Error{Kind: cti.KindInvalid, Field: "role", Msg: "role must be agent, supervisor, reviewer or admin"}
		}
		set["role"] = string(*p.Role)
	}
	if p.DefaultPhone != nil {
		set["default_phone"] = *p.DefaultPhone
	}
	if p.ManualCallWhenPaused != nil {
		set["manual_call_when_paused"] = *p.ManualCallWhenPaused
	}
	if p.TransferWhenPaused != nil {
		set["transfer_when_paused"] = *p.TransferWhenPaused
	}
	if p.RecordingControl != nil {
		set["recording_control"] = *p.RecordingControl
	}
	if p.Disabled != nil {
		set["disabled"] = *p.Disabled
	}
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if len(set) > 0 {
			res := tx.Table("users").Where("id = ?", id).Updates(set)
			if res.Error != nil {
				return dbErr(res.Error, "user")
			}
			if res.RowsAffected == 0 {
				return &cti.Error{Kind: cti.KindNotFound, Msg: "no such user"}
			}
		}
		if (p.Disabled != nil && *p.Disabled) || p.Password != nil {
			return tx.Exec(`UPDATE auth_sessions SET revoked_at = now() WHERE user_id = ? AND revoked_at IS NULL`, id).Error
		}
		return nil
	})
	if err != nil {
		return Account{}, err
	}
	return a.User(ctx, id)
}

// Authenticate checks a username and password. It returns a KindInvalid
// error with no detail about which of the two was wrong, and spends the same
// hashing time for an unknown username. Disabled users cannot log in.
func (a *Admin) Authenticate(ctx context.Context, username, password string) (Account, error) {
	var row accountRow
	name, err := NormalizeUsername(username)
	if err == nil {
		err = a.db.WithContext(ctx).Where("lower(username) = lower(?)", name).Take(&row).Error
	} else {
		err = gorm.ErrRecordNotFound // no such name can exist
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		CheckPassword(dummyHash, password)
		return Account{}, errBadLogin
	}
	if err != nil {
		return Account{}, err
	}
	if !CheckPassword(row.PasswordHash, password) || row.Disabled {
		return Account{}, errBadLogin
	}
	return row.account(), nil
}

var errBadLogin = &cti.Error{Kind: cti.KindInvalid, Msg: "invalid username or password"}

// IsBadLogin reports whether err is Authenticate's wrong-credentials error.
func IsBadLogin(err error) bool { return err == errBadLogin }

// --- auth sessions -----------------------------------------------------------

// CreateSession stores a session by the hash of its token.
func (a *Admin) CreateSession(ctx context.Context, tokenHash string, userID int64, expires time.Time) error {
	return a.db.WithContext(ctx).Exec(
		`INSERT INTO auth_sessions(token_hash, user_id, expires_at) VALUES (?, ?, ?)`,
		tokenHash, userID, expires).Error
}

// SessionUser returns the user of a live session (not expired, not revoked,
// user not disabled), or a KindNotFound error.
func (a *Admin) SessionUser(ctx context.Context, tokenHash string, now time.Time) (Account, time.Time, error) {
	var row sessionAccountRow
	// Every API request passes here: after a Postgres restart the pool's
	// dead connections would each fail one request, so retry on another.
	err := retryConnLost(func() error {
		return a.db.WithContext(ctx).Raw(`
		SELECT u.id, u.username, u.display_name, u.role, u.default_phone, u.manual_call_when_paused,
		       u.transfer_when_paused, u.recording_control, u.disabled, u.created_at, s.expires_at
		FROM auth_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND NOT u.disabled`,
			tokenHash, now).Scan(&row).Error
	})
	if err != nil {
		return Account{}, time.Time{}, err
	}
	if row.ID == 0 {
		return Account{}, time.Time{}, &cti.Error{Kind: cti.KindNotFound, Msg: "no such session"}
	}
	return accountRow{ID: row.ID, Username: row.Username, DisplayName: row.DisplayName, Role: row.Role,
		DefaultPhone: row.DefaultPhone, ManualCallWhenPaused: row.ManualCallWhenPaused,
		TransferWhenPaused: row.TransferWhenPaused, RecordingControl: row.RecordingControl,
		Disabled: row.Disabled, CreatedAt: row.CreatedAt}.account(), row.ExpiresAt, nil
}

type sessionAccountRow struct {
	ID                   int64
	Username             string
	DisplayName          string
	Role                 string
	DefaultPhone         string
	ManualCallWhenPaused bool
	TransferWhenPaused   bool
	RecordingControl     bool
	Disabled             bool
	CreatedAt            time.Time
	ExpiresAt            time.Time
}

// RevokeSession ends a session.
func (a *Admin) RevokeSession(ctx context.Context, tokenHash string) error {
	return a.db.WithContext(ctx).Exec(
		`UPDATE auth_sessions SET revoked_at = now() WHERE token_hash = ? AND revoked_at IS NULL`, tokenHash).Error
}

// PurgeSessions deletes sessions that expired or were revoked before t.
func (a *Admin) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	res := a.db.WithContext(ctx).Exec(
		`DELETE FROM auth_sessions WHERE expires_at < ? OR revoked_at < ?`, before, before)
	return res.RowsAffected, res.Error
}

// dbErr maps gorm/PostgreSQL errors to domain errors the API can show.
func dbErr(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &cti.Error{Kind: cti.KindNotFound, Msg: "no such " + what}
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		// Sentences for people: constraint names and Postgres' own
		// messages stay in the logs.
		case "23505":
			return &cti.Error{Kind: cti.KindConflict, Msg: "That " + what + " already exists: its name or number is already in use."}
		case "23503":
			return &cti.Error{Kind: cti.KindInvalid, Msg: "The " + what + " refers to something that does not exist (it may have just been deleted)."}
		case "23514", "22001", "22P02", "22003":
			return &cti.Error{Kind: cti.KindInvalid, Msg: "A value of the " + what + " is not allowed (too long, out of range or not one of the choices)."}
		}
	}
	return err
}

// SetUserCampaigns replaces the campaigns a user works on.
func (a *Admin) SetUserCampaigns(ctx context.Context, userID int64, campaignIDs []int64) (Account, error) {
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("users").Where("id = ?", userID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return &cti.Error{Kind: cti.KindNotFound, Msg: "no such user"}
		}
		if err := tx.Exec(`DELETE FROM campaign_agents WHERE user_id = ?`, userID).Error; err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, c := range campaignIDs {
			if seen[c] {
				continue
			}
			seen[c] = true
			if err := tx.Exec(`INSERT INTO campaign_agents(campaign_id, user_id) VALUES (?, ?)`, c, userID).Error; err != nil {
				if cti.KindOf(dbErr(err, "campaign")) == cti.KindInvalid {
					return &cti.Error{Kind: cti.KindInvalid, Field: "campaignIds", Msg: "no campaign with id " + itoa64(c)}
				}
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Account{}, err
	}
	return a.User(ctx, userID)
}

// LiveSessions reports which of the given sessions (token hashes) are still
// live at now (not expired, not revoked, user enabled): one query for every
// open websocket, however many there are.
func (a *Admin) LiveSessions(ctx context.Context, tokenHashes []string, now time.Time) (map[string]bool, error) {
	live := map[string]bool{}
	if len(tokenHashes) == 0 {
		return live, nil
	}
	var rows []string
	err := retryConnLost(func() error {
		rows = rows[:0]
		return a.db.WithContext(ctx).Raw(`
		SELECT s.token_hash FROM auth_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash IN ? AND s.revoked_at IS NULL AND s.expires_at > ? AND NOT u.disabled
		  AND u.role IN ('agent', 'supervisor')`, tokenHashes, now).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	for _, h := range rows {
		live[h] = true
	}
	return live, nil
}
