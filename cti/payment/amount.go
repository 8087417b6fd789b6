package payment

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Validation errors for agent-entered fields; the API maps them to 400.
var (
	ErrInvalidAmount   = errors.New("invalid amount")
	ErrInvalidCurrency = errors.New("unknown currency (ISO 4217 code expected)")
	ErrInvalidExpiry   = errors.New("invalid expiry date (MM/YY expected)")
	ErrExpired         = errors.New("card expired")
	ErrCardIncomplete  = errors.New("card number and security code not fully entered")
	ErrInvalidName     = errors.New("invalid cardholder name")
	ErrInvalidRef      = errors.New("invalid payment reference")
)

// currencyExponent holds the minor-unit exponent of active ISO 4217
// currencies (funds and precious-metal codes excluded).
var currencyExponent = map[string]int{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2,
	"BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2, "BRL": 2,
	"BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0, "CNY": 2,
	"COP": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2,
	"ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2, "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2,
	"GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2,
	"IQD": 3, "IRR": 2, "ISK": 0, "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0,
	"KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2,
	"LYD": 3, "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
	"MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2,
	"NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0, "QAR": 2,
	"RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2,
	"SHP": 2, "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2,
	"TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0,
	"USD": 2, "UYU": 2, "UYW": 4, "UZS": 2, "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2,
	"XCG": 2, "XOF": 0, "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}

// maxMinor caps amounts (10^12 minor units) far below int64 overflow.
const maxMinor int64 = 1_000_000_000_000

// NormalizeCurrency upper-cases and checks an ISO 4217 code.
func NormalizeCurrency(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if _, ok := currencyExponent[c]; !ok {
		return "", ErrInvalidCurrency
	}
	return c, nil
}

// CurrencyExponent returns the number of minor-unit digits of an ISO 4217
// currency (2 for GBP, 0 for JPY, 3 for KWD).
func CurrencyExponent(code string) (int, error) {
	c, err := NormalizeCurrency(code)
	if err != nil {
		return 0, err
	}
	return currencyExponent[c], nil
}

// ParseAmount parses a decimal amount such as "12.34" in the given
// currency into minor units (1234 for GBP). It accepts at most the
// currency's number of decimals, no sign, no thousands separators, and
// rejects zero.
func ParseAmount(s, currency string) (int64, error) {
	exp, err := CurrencyExponent(currency)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	bad := func(why string) (int64, error) {
		// The input is not echoed: an agent could paste anything here.
		return 0, fmt.Errorf("%w: %s", ErrInvalidAmount, why)
	}
	if s == "" {
		return bad("empty")
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") {
		return bad("digits expected on both sides of the decimal point")
	}
	if len(frac) > exp {
		return bad(fmt.Sprintf("%s allows %d decimal places", strings.ToUpper(currency), exp))
	}
	var v int64
	for _, r := range intPart + frac {
		if r < '0' || r > '9' {
			return bad("only digits and one decimal point allowed")
		}
		v = v*10 + int64(r-'0')
		if v > maxMinor {
			return bad("too large")
		}
	}
	for i := len(frac); i < exp; i++ {
		v *= 10
		if v > maxMinor {
			return bad("too large")
		}
	}
	if v == 0 {
		return bad("must be greater than zero")
	}
	return v, nil
}

// FormatAmount renders minor units as a decimal string ("12.34").
func FormatAmount(minor int64, currency string) string {
	exp, err := CurrencyExponent(currency)
	if err != nil {
		exp = 2
	}
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := fmt.Sprintf("%0*d", exp+1, minor)
	if exp > 0 {
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseExpiry parses "MM/YY", "MM/YYYY", "MMYY", "MM-YY" or "MM YY" into a
// month and a four-digit year. It does not check whether the date is past;
// see ValidateExpiry.
func ParseExpiry(s string) (month, year int, err error) {
	t := strings.TrimSpace(s)
	var m, y string
	if i := strings.IndexAny(t, "/- "); i >= 0 {
		m, y = strings.TrimSpace(t[:i]), strings.TrimSpace(t[i+1:])
	} else if len(t) == 4 || len(t) == 6 {
		m, y = t[:2], t[2:]
	} else {
		return 0, 0, ErrInvalidExpiry
	}
	month, ok1 := atoiDigits(m)
	year, ok2 := atoiDigits(y)
	if !ok1 || !ok2 || len(m) > 2 || (len(y) != 2 && len(y) != 4) {
		return 0, 0, ErrInvalidExpiry
	}
	if len(y) == 2 {
		year += 2000
	}
	if month < 1 || month > 12 {
		return 0, 0, fmt.Errorf("%w: month must be 01-12", ErrInvalidExpiry)
	}
	return month, year, nil
}

func atoiDigits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

// ValidateExpiry checks a month (1-12) and year (two or four digits) against
// now: a card is valid through the last day of its expiry month (in now's
// location). Years more than 20 ahead are rejected as typos.
func ValidateExpiry(month, year int, now time.Time) error {
	if year >= 0 && year < 100 {
		year += 2000
	}
	if month < 1 || month > 12 || year < 2000 || year > 2200 {
		return fmt.Errorf("%w: month must be 01-12 and year YY or YYYY", ErrInvalidExpiry)
	}
	ny, nm := now.Year(), int(now.Month())
	if year < ny || (year == ny && month < nm) {
		return ErrExpired
	}
	if year > ny+20 {
		return fmt.Errorf("%w: year too far in the future", ErrInvalidExpiry)
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
