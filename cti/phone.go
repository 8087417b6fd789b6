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
