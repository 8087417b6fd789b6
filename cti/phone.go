package cti

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NormalizeNumber turns what an agent typed or keyed into E.164, using
// region (ISO 3166 alpha-2, e.g. "GB") for national formats. Short internal
// extensions (up to 6 digits) pass through unchanged.
func NormalizeNumber(raw, region string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", invalid("number", "Type a phone number.")
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if len(digits) > 0 && len(digits) <= 6 && digits == strings.TrimPrefix(s, "") && !strings.HasPrefix(s, "+") {
		return digits, nil // an internal extension
	}
	if region == "" {
		region = "GB"
	}
	num, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil {
		return "", invalid("number", "'"+raw+"' is not a phone number.")
	}
	if !phonenumbers.IsPossibleNumber(num) || !phonenumbers.IsValidNumber(num) {
		return "", invalid("number", "'"+raw+"' is not a valid phone number (numbers without a country code are read as "+region+" numbers).")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// NormalizePlatformNumber is NormalizeNumber for the centre's own numbers
// (DIDs, caller ids presented): any possible number in E.164 is accepted,
// since a carrier's new ranges, and reserved ranges such as Ofcom's drama
// numbers, need not be in libphonenumber's "valid" metadata. It still
// refuses what is not a phone number at all, and extensions.
func NormalizePlatformNumber(raw, region string) (string, error) {
	if n, err := NormalizeNumber(raw, region); err == nil && strings.HasPrefix(n, "+") {
		return n, nil
	}
	s := strings.TrimSpace(raw)
	if region == "" {
		region = "GB"
	}
	num, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", invalid("number", "'"+raw+"' is not a phone number")
	}
	// E.164 allows at most 15 digits; fewer than 8 is an extension or a
	// short code, not a number a carrier delivers.
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if d := len(e164) - 1; d < 8 || d > 15 {
		return "", invalid("number", "'"+raw+"' is not a phone number")
	}
	return e164, nil
}
