package postgres

import (
	"strconv"
	"strings"

	"github.com/ctid/ctid/cti"
)

// MinAdminPassword is the shortest password an admin may have (others:
// 8); PasswordPolicy applies it where people choose passwords (the admin
// API, ctid create-user).
const MinAdminPassword = 12

// commonPasswords are the most used passwords (and the obvious ones for a
// contact centre), refused whatever the length rule: they are the first a
// guesser tries.
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`
		password password1 password12 password123 password1234 passw0rd p@ssw0rd p@ssword passwort motdepasse
		12345678 123456789 1234567890 12345678910 123123123 11111111 00000000 88888888 987654321 147258369
		qwerty qwerty123 qwertyuiop 1q2w3e4r 1q2w3e4r5t qwe123qwe asdfghjkl zxcvbnm azerty azertyuiop
		iloveyou letmein letmein1 welcome welcome1 welcome123 sunshine princess football baseball dragon
		monkey master superman trustno1 whatever starwars shadow michael jennifer computer internet
		changeme changeme1 changeme123 default secret secret123 administrator admin admin123 admin1234
		adminadmin root toor agent agent123 supervisor callcentre callcenter contactcentre contactcenter
		asterisk asterisk123 ctid ctid1234 ctidctid summer2024 summer2025 winter2024 winter2025 spring2025
		autumn2025 january2025 london123 abcdefgh abcd1234 abc12345 aaaaaaaa 1qaz2wsx zaq12wsx
		passwordpassword 123456789012 qwertyqwerty`) {
		commonPasswords[p] = true
	}
}

// PasswordPolicy checks a new password for a user of role: at least 8
// characters (12 for admins), not one of the common passwords.
func PasswordPolicy(role cti.Role, password string) error {
	min := 8
	if role == cti.RoleAdmin {
		min = MinAdminPassword
	}
	if len([]rune(password)) < min {
		return &cti.Error{Kind: cti.KindInvalid, Field: "password", Msg: "the password must be at least " + strconv.Itoa(min) + " characters for this role"}
	}
	if commonPasswords[strings.ToLower(strings.TrimSpace(password))] {
		return &cti.Error{Kind: cti.KindInvalid, Field: "password", Msg: "this password is one of the most common ones; choose another"}
	}
	return nil
}
