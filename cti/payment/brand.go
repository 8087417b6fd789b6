package payment

// Card brand detection and the Luhn check. Everything here works on byte
// slices of ASCII digits so that the card number never has to become a Go
// string (strings are immutable and cannot be wiped).

// Brand describes a card scheme: the lengths its numbers may have and the
// length of its security code.
type Brand struct {
	Name      string
	Lengths   []int // valid PAN lengths, ascending
	CVVLength int
}

// MaxLength is the longest PAN the brand issues.
func (b *Brand) MaxLength() int { return b.Lengths[len(b.Lengths)-1] }

// ValidLength reports whether n is one of the brand's PAN lengths.
func (b *Brand) ValidLength(n int) bool {
	for _, l := range b.Lengths {
		if l == n {
			return true
		}
	}
	return false
}

// Brand names as shown in Progress.CardBrand.
const (
	Visa       = "visa"
	Mastercard = "mastercard"
	Amex       = "amex"
	Discover   = "discover"
	JCB        = "jcb"
	Diners     = "diners"
	Maestro    = "maestro"
	UnionPay   = "unionpay"
)

var (
	brandVisa       = &Brand{Visa, []int{13, 16, 19}, 3}
	brandMastercard = &Brand{Mastercard, []int{16}, 3}
	brandAmex       = &Brand{Amex, []int{15}, 4}
	brandDiscover   = &Brand{Discover, []int{16, 17, 18, 19}, 3}
	brandJCB        = &Brand{JCB, []int{16, 17, 18, 19}, 3}
	brandDiners     = &Brand{Diners, []int{14, 15, 16, 17, 18, 19}, 3}
	brandMaestro    = &Brand{Maestro, []int{12, 13, 14, 15, 16, 17, 18, 19}, 3}
	brandUnionPay   = &Brand{UnionPay, []int{16, 17, 18, 19}, 3}
)

// Brands lists every brand the package recognises.
var Brands = []*Brand{brandVisa, brandMastercard, brandAmex, brandDiscover, brandJCB, brandDiners, brandMaestro, brandUnionPay}

// A prefix rule: numbers whose first len(lo) digits lie in [lo, hi].
type prefixRule struct {
	lo, hi string
	brand  *Brand
}

// Rules are ordered longest prefix first so that the most specific range
// wins (e.g. Maestro 6759 before a shorter 6x rule, Discover 6011).
var prefixRules = []prefixRule{
	{"2221", "2720", brandMastercard},
	{"3528", "3589", brandJCB},
	{"3095", "3095", brandDiners},
	{"5018", "5018", brandMaestro},
	{"5020", "5020", brandMaestro},
	{"5038", "5038", brandMaestro},
	{"5893", "5893", brandMaestro},
	{"6011", "6011", brandDiscover},
	{"6304", "6304", brandMaestro},
	{"6759", "6759", brandMaestro},
	{"6761", "6763", brandMaestro},
	{"300", "305", brandDiners},
	{"644", "649", brandDiscover},
	{"34", "34", brandAmex},
	{"37", "37", brandAmex},
	{"36", "36", brandDiners},
	{"38", "39", brandDiners},
	{"50", "50", brandMaestro},
	{"51", "55", brandMastercard},
	{"56", "58", brandMaestro},
	{"62", "62", brandUnionPay},
	{"65", "65", brandDiscover},
	{"4", "4", brandVisa},
}

// DetectBrand returns the brand of a (possibly partial) card number given
// as ASCII digits, or nil while the prefix is unknown or still ambiguous.
func DetectBrand(pan []byte) *Brand {
	for _, r := range prefixRules {
		n := len(r.lo)
		if len(pan) < n {
			continue
		}
		p := pan[:n]
		if cmpDigits(p, r.lo) >= 0 && cmpDigits(p, r.hi) <= 0 {
			return r.brand
		}
	}
	return nil
}

// BrandByName returns the brand with the given name, or nil.
func BrandByName(name string) *Brand {
	for _, b := range Brands {
		if b.Name == name {
			return b
		}
	}
	return nil
}

func cmpDigits(p []byte, s string) int {
	for i := 0; i < len(p); i++ {
		if p[i] != s[i] {
			if p[i] < s[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Luhn reports whether the ASCII digits pass the Luhn (mod 10) check.
// Empty input and non-digits fail.
func Luhn(digits []byte) bool {
	if len(digits) == 0 {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// ValidPAN reports whether the number has a known brand, a length valid for
// that brand, and passes Luhn.
func ValidPAN(pan []byte) bool {
	b := DetectBrand(pan)
	return b != nil && b.ValidLength(len(pan)) && Luhn(pan)
}
