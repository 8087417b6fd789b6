package leads

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Mapping says which columns (by header text, matched case- and
// punctuation-insensitively) hold the lead fields. Name may join several
// columns with "+", e.g. "First name+Last name". Unmapped columns are kept
// as lead data.
type Mapping struct {
	Name       string
	Phones     [MaxPhones]string // e.g. mobile, home, work column headers
	TimeZone   string
	ExternalID string
}

// ErrNoPhoneColumn is returned when no phone column is mapped or detected.
var ErrNoPhoneColumn = errors.New("leads: no phone number column mapped or detected")

// normHeader lowercases and drops everything but letters and digits, so
// "Mobile Phone", "mobile_phone" and "MOBILE-PHONE" compare equal.
func normHeader(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	autoName       = []string{"name", "fullname", "customername", "contactname", "leadname", "customer", "contact"}
	autoFirst      = []string{"firstname", "forename", "givenname", "first"}
	autoLast       = []string{"lastname", "surname", "familyname", "last"}
	autoPhoneSlots = [MaxPhones][]string{
		{"mobile", "mobilephone", "mobilenumber", "mobileno", "cell", "cellphone", "cellnumber", "mob"},
		{"phone", "phonenumber", "phoneno", "telephone", "tel", "home", "homephone", "homenumber", "landline", "number", "phone1"},
		{"work", "workphone", "worknumber", "office", "officephone", "businessphone", "altphone", "alternatephone", "phone2", "otherphone"},
	}
	autoTZ  = []string{"timezone", "tz", "tzname", "zone"}
	autoExt = []string{"externalid", "id", "leadid", "customerid", "contactid", "ref", "reference", "accountnumber", "accountno", "crmid", "vendorleadcode"}
)

// DetectMapping guesses a mapping from common header names. It returns
// ErrNoPhoneColumn when no phone column is recognised.
func DetectMapping(headers []string) (Mapping, error) {
	idx := make(map[string]string, len(headers))
	for _, h := range headers {
		n := normHeader(h)
		if _, dup := idx[n]; !dup && n != "" {
			idx[n] = h
		}
	}
	find := func(cands []string) string {
		for _, c := range cands {
			if h, ok := idx[c]; ok {
				return h
			}
		}
		return ""
	}
	var m Mapping
	m.Name = find(autoName)
	if m.Name == "" {
		f, l := find(autoFirst), find(autoLast)
		switch {
		case f != "" && l != "":
			m.Name = f + "+" + l
		case f != "":
			m.Name = f
		case l != "":
			m.Name = l
		}
	}
	used := map[string]bool{}
	for i, cands := range autoPhoneSlots {
		if h := find(cands); h != "" && !used[h] {
			m.Phones[i] = h
			used[h] = true
		}
	}
	m.TimeZone = find(autoTZ)
	m.ExternalID = find(autoExt)
	if m.Phones == [MaxPhones]string{} {
		return m, ErrNoPhoneColumn
	}
	return m, nil
}

// columns is a mapping resolved against a header row.
type columns struct {
	name     []int
	phones   [MaxPhones]int // -1 when unmapped
	tz, ext  int
	data     []int    // unmapped column indexes
	dataKeys []string // their keys in Lead.Data
}

func resolve(m Mapping, headers []string) (*columns, error) {
	pos := make(map[string]int, len(headers))
	for i, h := range headers {
		n := normHeader(h)
		if _, dup := pos[n]; !dup && n != "" {
			pos[n] = i
		}
	}
	mapped := map[int]bool{}
	lookup := func(field, h string) (int, error) {
		if strings.TrimSpace(h) == "" {
			return -1, nil
		}
		i, ok := pos[normHeader(h)]
		if !ok {
			return -1, fmt.Errorf("leads: mapping %s: column %q not in header", field, h)
		}
		mapped[i] = true
		return i, nil
	}
	c := &columns{}
	var err error
	if m.Name != "" {
		for _, part := range strings.Split(m.Name, "+") {
			i, err := lookup("name", part)
			if err != nil {
				return nil, err
			}
			if i >= 0 {
				c.name = append(c.name, i)
			}
		}
	}
	anyPhone := false
	for k, h := range m.Phones {
		if c.phones[k], err = lookup(fmt.Sprintf("phone %d", k+1), h); err != nil {
			return nil, err
		}
		anyPhone = anyPhone || c.phones[k] >= 0
	}
	if !anyPhone {
		return nil, ErrNoPhoneColumn
	}
	if c.tz, err = lookup("time zone", m.TimeZone); err != nil {
		return nil, err
	}
	if c.ext, err = lookup("external id", m.ExternalID); err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for i, h := range headers {
		if mapped[i] {
			continue
		}
		key := strings.TrimSpace(clean(h))
		if key == "" {
			key = fmt.Sprintf("column %d", i+1)
		}
		if n := seen[key]; n > 0 {
			seen[key] = n + 1
			key = fmt.Sprintf("%s (%d)", key, n+1)
		} else {
			seen[key] = 1
		}
		c.data = append(c.data, i)
		c.dataKeys = append(c.dataKeys, key)
	}
	return c, nil
}
