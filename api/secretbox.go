package api

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// A SecretBox seals the secrets ctid must keep but must never hold in
// clear: today a campaign's payment gateway API key, which sits in
// campaigns.settings (JSON) where a database dump, a backup or a support
// query would otherwise show it. It is AES-256-GCM with a key derived from
// the server's CTID_SECRET_KEY, which lives in the server's environment and
// never in the database.
//
// A sealed value is text, so it stays in the JSON where the clear key was:
// "enc:v1:" + base64(nonce ‖ ciphertext). Values without the prefix are
// keys saved before sealing existed; they are still read, and
// SealPaymentKeys seals them at start-up.
type SecretBox struct{ aead cipher.AEAD }

// MinSecretKey is the shortest CTID_SECRET_KEY accepted (characters).
const MinSecretKey = 32

const sealedPrefix = "enc:v1:"

// ErrNoSecretBox is returned for a sealed value on a server that has no
// CTID_SECRET_KEY, or for a secret to seal there.
var ErrNoSecretBox = errors.New("this server has no CTID_SECRET_KEY, so it cannot store or read payment gateway keys")

// NewSecretBox derives the sealing key from secret (CTID_SECRET_KEY).
func NewSecretBox(secret string) (*SecretBox, error) {
	if len(secret) < MinSecretKey {
		return nil, fmt.Errorf("CTID_SECRET_KEY must be at least %d characters", MinSecretKey)
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "ctid secret box v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &SecretBox{aead: aead}, nil
}

// NewSecretKey returns a random CTID_SECRET_KEY (for the throwaway cluster
// and for `ctid secret-key`).
func NewSecretKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// IsSealed tells whether v is a sealed value.
func IsSealed(v string) bool { return strings.HasPrefix(v, sealedPrefix) }

// Seal seals plain; purpose names what it is (it must be the same to Open,
// so a sealed value cannot be moved to another use).
func (b *SecretBox) Seal(purpose, plain string) (string, error) {
	if b == nil {
		return "", ErrNoSecretBox
	}
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(purpose))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open returns the clear text of a sealed value; a value that is not
// sealed (saved before sealing existed) is returned as it is.
func (b *SecretBox) Open(purpose, v string) (string, error) {
	if !IsSealed(v) {
		return v, nil
	}
	if b == nil {
		return "", ErrNoSecretBox
	}
	raw, err := base64.RawStdEncoding.DecodeString(v[len(sealedPrefix):])
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", errors.New("the stored secret is damaged")
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(purpose))
	if err != nil {
		// A different CTID_SECRET_KEY, or an altered value.
		return "", errors.New("the stored secret cannot be opened with this server's CTID_SECRET_KEY")
	}
	return string(plain), nil
}

// SealPaymentKeys seals every campaign's payment gateway key still stored
// in clear (saved before sealing existed, or written to the database by
// hand), so a dump taken after start-up holds none. It returns how many it
// sealed. Without a box it only counts them.
func SealPaymentKeys(ctx context.Context, db *gorm.DB, box *SecretBox) (int, error) {
	var rows []struct {
		ID  int64
		Key string
	}
	err := db.WithContext(ctx).Raw(`SELECT id, settings->'payment'->>'api_key' AS key FROM campaigns
		WHERE coalesce(settings->'payment'->>'api_key', '') <> '' AND settings->'payment'->>'api_key' NOT LIKE ?`, sealedPrefix+"%").
		Scan(&rows).Error
	if err != nil || box == nil {
		return len(rows), err
	}
	for _, r := range rows {
		sealed, err := box.Seal(paymentKeyPurpose, r.Key)
		if err != nil {
			return 0, err
		}
		// Only if the key is still the one read (an admin may have saved
		// the campaign meanwhile).
		if err := db.WithContext(ctx).Exec(`UPDATE campaigns SET settings = jsonb_set(settings, '{payment,api_key}', to_jsonb(?::text))
			WHERE id = ? AND settings->'payment'->>'api_key' = ?`, sealed, r.ID, r.Key).Error; err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}
