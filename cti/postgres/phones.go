package postgres

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ctid/ctid/cti"
)

// --- phones --------------------------------------------------------------------
//
// A phone is a SIP endpoint ctid manages (issue 12): a desk phone or a
// browser softphone, with its own generated secret, optionally assigned to a
// user. The phones table drives the PJSIP realtime rows Asterisk reads
// (migration 0341's triggers), so what is written here is live at once.
// The secret is returned only by CreatePhone and ResetPhoneSecret; what is
// stored is md5(extension:realm:secret), Asterisk's md5_cred.

// PhoneRealm is the SIP digest realm of the phones (ps_auths.realm): the
// realm Asterisk challenges them with and the one their md5_cred is made for.
const PhoneRealm = "ctid"

// PhoneKinds are the kinds of phone.
const (
	PhoneDesk    = "desk"
	PhoneBrowser = "browser"
)

// PhoneCodecs are the codecs a phone may offer (the ones the bundled
// Asterisk loads); the first is preferred.
var PhoneCodecs = []string{"ulaw", "alaw", "g722", "gsm"}

// Phone is a phone as the admin API shows it (never its secret).
type Phone struct {
	ID        int64     `json:"id"`
	Extension string    `json:"extension"`
	Kind      string    `json:"kind"`
	UserID    *int64    `json:"userId"`
	Label     string    `json:"label"`
	Codecs    []string  `json:"codecs"`
	Disabled  bool      `json:"disabled"`
	SecretSet time.Time `json:"secretSetAt"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type phoneRow struct {
	ID          int64
	Extension   string
	Kind        string
	UserID      *int64
	Label       string
	Codecs      string
	Disabled    bool
	SipRealm    string
	SipMd5Cred  string
	SecretSetAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (phoneRow) TableName() string { return "phones" }

func (r phoneRow) phone() Phone {
	return Phone{ID: r.ID, Extension: r.Extension, Kind: r.Kind, UserID: r.UserID, Label: r.Label,
		Codecs: strings.Split(r.Codecs, ","), Disabled: r.Disabled, SecretSet: r.SecretSetAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// PhoneInput is what creating a phone takes, and what editing one may
// change (nil fields stay as they are; on create nil means the default).
type PhoneInput struct {
	Extension *string   `json:"extension"`
	Kind      *string   `json:"kind"`
	UserID    *int64    `json:"userId"`
	Unassign  bool      `json:"-"` // edit: set the user to none (JSON "userId": null)
	Label     *string   `json:"label"`
	Codecs    *[]string `json:"codecs"`
	Disabled  *bool     `json:"disabled"`
}

var extensionRe = regexp.MustCompile(`^[0-9]{2,20}$`)

func badPhone(field, msg string) error {
	return &cti.Error{Kind: cti.KindInvalid, Field: field, Msg: msg}
}

// validate checks the fields present in in.
func (in *PhoneInput) validate() error {
	if in.Extension != nil {
		ext := strings.TrimSpace(*in.Extension)
		if !extensionRe.MatchString(ext) {
			return badPhone("extension", "The extension must be 2 to 20 digits.")
		}
		in.Extension = &ext
	}
	if in.Kind != nil && *in.Kind != PhoneDesk && *in.Kind != PhoneBrowser {
		return badPhone("kind", "The kind of phone must be desk or browser.")
	}
	if in.Label != nil {
		l := strings.TrimSpace(*in.Label)
		if len(l) > 80 {
			return badPhone("label", "The label is limited to 80 characters.")
		}
		in.Label = &l
	}
	if in.Codecs != nil {
		if len(*in.Codecs) == 0 {
			return badPhone("codecs", "Choose at least one codec.")
		}
		seen := map[string]bool{}
		for _, c := range *in.Codecs {
			ok := false
			for _, k := range PhoneCodecs {
				ok = ok || c == k
			}
			if !ok {
				return badPhone("codecs", "Codecs must be among "+strings.Join(PhoneCodecs, ", ")+".")
			}
			if seen[c] {
				return badPhone("codecs", "A codec is listed twice.")
			}
			seen[c] = true
		}
	}
	return nil
}

// NewPhoneSecret returns a random SIP secret: 24 characters from an
// alphabet without look-alikes, about 138 bits, easy to type on a keypad
// phone's web page.
func NewPhoneSecret() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXYZ234679"
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// PhoneMD5Cred is Asterisk's md5_cred for a digest user, realm and secret.
func PhoneMD5Cred(user, realm, secret string) string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + secret))
	return hex.EncodeToString(sum[:])
}

// checkPhoneUser refuses an assignment to a user who does not exist.
func checkPhoneUser(tx *gorm.DB, id *int64) error {
	if id == nil {
		return nil
	}
	var n int64
	if err := tx.Table("users").Where("id = ?", *id).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return &cti.Error{Kind: cti.KindInvalid, Field: "userId", Msg: "There is no such user to assign the phone to."}
	}
	return nil
}

// Phones lists every phone by extension.
func (a *Admin) Phones(ctx context.Context) ([]Phone, error) {
	var rows []phoneRow
	if err := a.db.WithContext(ctx).Order("extension").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Phone, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.phone())
	}
	return out, nil
}

// Phone returns one phone.
func (a *Admin) Phone(ctx context.Context, id int64) (Phone, error) {
	var row phoneRow
	if err := a.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return Phone{}, dbErr(err, "phone")
	}
	return row.phone(), nil
}

// PhonesOfUser lists the extensions of the enabled phones assigned to a user.
func (a *Admin) PhonesOfUser(ctx context.Context, userID int64) ([]string, error) {
	var exts []string
	err := a.db.WithContext(ctx).Table("phones").Where("user_id = ? AND NOT disabled", userID).
		Order("extension").Pluck("extension", &exts).Error
	return exts, err
}

// CreatePhone stores a new phone and returns it with its secret, which is
// not kept and cannot be read again.
func (a *Admin) CreatePhone(ctx context.Context, in PhoneInput) (Phone, string, error) {
	if in.Extension == nil {
		return Phone{}, "", badPhone("extension", "The extension is required.")
	}
	if err := in.validate(); err != nil {
		return Phone{}, "", err
	}
	secret, err := NewPhoneSecret()
	if err != nil {
		return Phone{}, "", err
	}
	row := phoneRow{Extension: *in.Extension, Kind: PhoneDesk, UserID: in.UserID, Codecs: "ulaw,alaw",
		SipRealm: PhoneRealm, SipMd5Cred: PhoneMD5Cred(*in.Extension, PhoneRealm, secret)}
	if in.Kind != nil {
		row.Kind = *in.Kind
	}
	if in.Label != nil {
		row.Label = *in.Label
	}
	if in.Codecs != nil {
		row.Codecs = strings.Join(*in.Codecs, ",")
	}
	if in.Disabled != nil {
		row.Disabled = *in.Disabled
	}
	err = a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := checkPhoneUser(tx, in.UserID); err != nil {
			return err
		}
		var n int64
		if err := tx.Table("phones").Where("extension = ?", row.Extension).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return &cti.Error{Kind: cti.KindConflict, Field: "extension", Msg: "Another phone already has extension " + row.Extension + "."}
		}
		if err := tx.Omit("ID", "SecretSetAt", "CreatedAt", "UpdatedAt").Create(&row).Error; err != nil {
			return dbErr(err, "phone")
		}
		return nil
	})
	if err != nil {
		return Phone{}, "", err
	}
	p, err := a.Phone(ctx, row.ID)
	return p, secret, err
}

// UpdatePhone changes the fields present in in. Changing the extension
// needs a new secret (the digest covers it), so it is refused here: delete
// and create instead.
func (a *Admin) UpdatePhone(ctx context.Context, id int64, in PhoneInput) (Phone, error) {
	if in.Extension != nil {
		return Phone{}, badPhone("extension", "The extension of a phone cannot change; create a new phone instead.")
	}
	if err := in.validate(); err != nil {
		return Phone{}, err
	}
	set := map[string]any{"updated_at": gorm.Expr("now()")}
	if in.Kind != nil {
		set["kind"] = *in.Kind
	}
	if in.Unassign {
		set["user_id"] = nil
	} else if in.UserID != nil {
		set["user_id"] = *in.UserID
	}
	if in.Label != nil {
		set["label"] = *in.Label
	}
	if in.Codecs != nil {
		set["codecs"] = strings.Join(*in.Codecs, ",")
	}
	if in.Disabled != nil {
		set["disabled"] = *in.Disabled
	}
	err := a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if !in.Unassign {
			if err := checkPhoneUser(tx, in.UserID); err != nil {
				return err
			}
		}
		res := tx.Table("phones").Where("id = ?", id).Updates(set)
		if res.Error != nil {
			return dbErr(res.Error, "phone")
		}
		if res.RowsAffected == 0 {
			return &cti.Error{Kind: cti.KindNotFound, Msg: "no such phone"}
		}
		return nil
	})
	if err != nil {
		return Phone{}, err
	}
	return a.Phone(ctx, id)
}

// ResetPhoneSecret gives the phone a new secret and returns it (once). The
// phone's registration is dropped (0341's trigger deletes its ps_contacts
// row), so until it registers with the new secret no call reaches it.
func (a *Admin) ResetPhoneSecret(ctx context.Context, id int64) (Phone, string, error) {
	p, err := a.Phone(ctx, id)
	if err != nil {
		return Phone{}, "", err
	}
	secret, err := NewPhoneSecret()
	if err != nil {
		return Phone{}, "", err
	}
	res := a.db.WithContext(ctx).Table("phones").Where("id = ?", id).Updates(map[string]any{
		"sip_realm": PhoneRealm, "sip_md5_cred": PhoneMD5Cred(p.Extension, PhoneRealm, secret),
		"secret_set_at": gorm.Expr("now()"), "updated_at": gorm.Expr("now()")})
	if res.Error != nil {
		return Phone{}, "", dbErr(res.Error, "phone")
	}
	if res.RowsAffected == 0 {
		return Phone{}, "", &cti.Error{Kind: cti.KindNotFound, Msg: "no such phone"}
	}
	p, err = a.Phone(ctx, id)
	return p, secret, err
}

// DeletePhone removes a phone: Asterisk no longer knows the endpoint (no
// REGISTER, no new call), while a call already up on it carries on to its
// end.
func (a *Admin) DeletePhone(ctx context.Context, id int64) error {
	res := a.db.WithContext(ctx).Where("id = ?", id).Delete(&phoneRow{})
	if res.Error != nil {
		return dbErr(res.Error, "phone")
	}
	if res.RowsAffected == 0 {
		return &cti.Error{Kind: cti.KindNotFound, Msg: "no such phone"}
	}
	return nil
}

// PhoneOwner says who a phone belongs to, for the engine's checks: found
// is false for an extension ctid does not manage (a phone configured in
// pjsip.conf).
func (a *Admin) PhoneOwner(ctx context.Context, extension string) (userID int64, assigned, disabled, found bool, err error) {
	var row phoneRow
	e := a.db.WithContext(ctx).Where("extension = ?", extension).Take(&row).Error
	if errors.Is(e, gorm.ErrRecordNotFound) {
		return 0, false, false, false, nil
	}
	if e != nil {
		return 0, false, false, false, e
	}
	if row.UserID != nil {
		userID, assigned = *row.UserID, true
	}
	return userID, assigned, row.Disabled, true, nil
}

// PhoneFor implements cti.PhoneDirectory: the phone userID may connect
// for number ("" = their own: their one assigned phone, else their default
// phone). A phone ctid manages must be assigned to them and enabled; any
// other number is an outside number, allowed when their profile says so.
func (a *Admin) PhoneFor(ctx context.Context, userID int64, number string) (string, error) {
	var u struct {
		DefaultPhone  string
		OutsidePhones bool
	}
	res := a.db.WithContext(ctx).Table("users").Select("default_phone, outside_phones").Where("id = ?", userID).Take(&u)
	if res.Error != nil {
		return "", dbErr(res.Error, "user")
	}
	n := strings.TrimSpace(number)
	if n == "" {
		mine, err := a.PhonesOfUser(ctx, userID)
		if err != nil {
			return "", err
		}
		if len(mine) == 1 {
			n = mine[0]
		} else {
			n = u.DefaultPhone
		}
	}
	if n == "" {
		return "", nil
	}
	owner, assigned, disabled, found, err := a.PhoneOwner(ctx, n)
	if err != nil {
		return "", err
	}
	forbidden := func(msg string) error { return &cti.Error{Kind: cti.KindForbidden, Field: "number", Msg: msg} }
	switch {
	case found && assigned && owner != userID:
		return "", forbidden("Phone " + n + " is assigned to someone else. Use your own phone.")
	case found && !assigned:
		return "", forbidden("Phone " + n + " is not assigned to you. Ask an administrator to assign it.")
	case found && disabled:
		return "", forbidden("Phone " + n + " is disabled. Ask an administrator to enable it.")
	case !found && !u.OutsidePhones:
		return "", forbidden("You may connect only the phones assigned to you.")
	}
	return n, nil
}

// OutsidePhones reports whether a user may connect outside numbers.
func (a *Admin) OutsidePhones(ctx context.Context, userID int64) (bool, error) {
	var v []bool
	if err := a.db.WithContext(ctx).Table("users").Where("id = ?", userID).Pluck("outside_phones", &v).Error; err != nil {
		return false, err
	}
	if len(v) == 0 {
		return false, &cti.Error{Kind: cti.KindNotFound, Msg: "no such user"}
	}
	return v[0], nil
}

// SetOutsidePhones allows or refuses a user outside numbers.
func (a *Admin) SetOutsidePhones(ctx context.Context, userID int64, allowed bool) error {
	res := a.db.WithContext(ctx).Table("users").Where("id = ?", userID).Update("outside_phones", allowed)
	if res.Error != nil {
		return dbErr(res.Error, "user")
	}
	if res.RowsAffected == 0 {
		return &cti.Error{Kind: cti.KindNotFound, Msg: "no such user"}
	}
	return nil
}

// BrowserPhoneOf returns the enabled browser phone assigned to a user (the
// lowest extension if several), or KindNotFound.
func (a *Admin) BrowserPhoneOf(ctx context.Context, userID int64) (Phone, error) {
	var r phoneRow
	res := a.db.WithContext(ctx).Where("user_id = ? AND kind = ? AND NOT disabled", userID, PhoneBrowser).
		Order("extension").Limit(1).Find(&r)
	if res.Error != nil {
		return Phone{}, res.Error
	}
	if res.RowsAffected == 0 {
		return Phone{}, &cti.Error{Kind: cti.KindNotFound, Msg: "No browser phone is assigned to you. Ask your administrator to add one for you in Phones."}
	}
	return r.phone(), nil
}
