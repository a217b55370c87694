package normalize

import (
	"strings"
	"unicode"
)

// PhoneKind says whether a number is a mobile or a landline.
type PhoneKind string

// Phone kinds.
const (
	Mobile   PhoneKind = "MOBILE"   // 11 digits, 1[3-9]…
	Landline PhoneKind = "LANDLINE" // area code, dash, 7–8 digit local number
	Service  PhoneKind = "SERVICE"  // 400/800 service number, 10 digits written 3-3-4
)

// Phone is a normalised mainland phone number. Number is the canonical
// form that matching hashes: 11 digits for a mobile (13800001111), area
// code, dash and local number for a landline (0710-3456789), 3-3-4 digits
// for a service number (400-810-8888).
type Phone struct {
	Number string
	Kind   PhoneKind
}

// Masked hides the middle: 138****0000 for a mobile, the area code and the
// last 4 digits for a landline (0710-***6789).
func (p Phone) Masked() string {
	switch p.Kind {
	case Mobile:
		if len(p.Number) == 11 {
			return p.Number[:3] + "****" + p.Number[7:]
		}
	case Landline:
		if i := strings.IndexByte(p.Number, '-'); i > 0 && len(p.Number)-i-1 > 4 {
			local := p.Number[i+1:]
			return p.Number[:i+1] + strings.Repeat("*", len(local)-4) + local[len(local)-4:]
		}
	case Service:
		if len(p.Number) == 12 {
			return p.Number[:4] + "***" + p.Number[7:]
		}
	}
	return strings.Repeat("*", len(p.Number))
}

// ParsePhone normalises a mainland phone number. It removes the country
// code (+86, 0086, or 86 before a full number), spaces, dashes, dots and
// brackets, and folds full-width digits; then it accepts an 11-digit
// mobile (1[3-9] and 9 digits), a landline: area code (010, 02x, or four
// digits 03xx–09xx) and a 7–8 digit local number not starting with 0 or 1,
// or a 400/800 service number (10 digits). "86" before a landline that
// keeps its trunk 0 (86-0710-3456789) is a country code too. A foreign
// country code, letters, an extension or any other length is a BAD_PHONE
// defect.
func ParsePhone(field, raw string) (Phone, []Repair, error) {
	s, fw := foldWidth(raw)
	s = strings.TrimSpace(s)
	if s == "" {
		return Phone{}, nil, defect(MissingField, field, "no phone number")
	}
	digits := make([]byte, 0, 16)
	plus := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '+' && i == 0:
			plus = true
		case r == '-' || r == '.' || r == '(' || r == ')' || r == '\u2014' || r == '\u2013' || r == '\uff0d' ||
			r == '\uff08' || r == '\uff09' || unicode.IsSpace(r):
		default:
			return Phone{}, nil, defect(BadPhone, field, "phone number has a character %q that is no digit or separator", r)
		}
	}
	d := string(digits)
	cc := ""
	switch {
	case plus && strings.HasPrefix(d, "86"):
		cc = "86"
	case plus:
		return Phone{}, nil, defect(BadPhone, field, "not a mainland number (foreign country code)")
	case strings.HasPrefix(d, "0086"):
		cc = "0086"
	case strings.HasPrefix(d, "86") && (len(d) == 13 || len(d) == 12) && d[2] != '0':
		cc = "86"
	case strings.HasPrefix(d, "860"):
		// No mainland number starts with 860: a country code before a
		// landline written with its trunk 0.
		if _, ok := classify(d); !ok {
			cc = "86"
		}
	}
	d = d[len(cc):]
	if cc != "" && d != "" && d[0] != '0' && !(len(d) == 11 && d[0] == '1') && !isService(d) {
		d = "0" + d // a landline after a country code drops its trunk 0 (+86 10 …, +86 710 …)
	}
	p, ok := classify(d)
	if !ok {
		return Phone{}, nil, defect(BadPhone, field, "%d digits are neither a mainland mobile (11 digits, 1[3-9]…) nor a landline with area code", len(d))
	}
	var repairs []Repair
	if fw {
		repairs = append(repairs, FullWidthDigits)
	}
	if cc != "" {
		repairs = append(repairs, CountryCodeStripped)
	}
	if p.Number != stripCountryCode(s, cc) {
		repairs = append(repairs, PhoneFormatting)
	}
	return p, repairs, nil
}

// classify validates a digit string as a mobile or a landline.
func classify(d string) (Phone, bool) {
	if len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9' {
		return Phone{Number: d, Kind: Mobile}, true
	}
	if isService(d) {
		return Phone{Number: d[:3] + "-" + d[3:6] + "-" + d[6:], Kind: Service}, true
	}
	if len(d) < 10 || len(d) > 12 || d[0] != '0' {
		return Phone{}, false
	}
	area := 4
	switch d[1] {
	case '0':
		return Phone{}, false
	case '1':
		if d[2] != '0' { // 010 is the only area code in 01x
			return Phone{}, false
		}
		area = 3
	case '2':
		area = 3
	}
	local := d[area:]
	if len(local) < 7 || len(local) > 8 || local[0] < '2' {
		return Phone{}, false
	}
	return Phone{Number: d[:area] + "-" + local, Kind: Landline}, true
}

// isService reports whether d is a 400 or 800 service number.
func isService(d string) bool {
	return len(d) == 10 && (strings.HasPrefix(d, "400") || strings.HasPrefix(d, "800"))
}

// stripCountryCode removes the written country code and the separators
// after it, to tell formatting repairs from a bare country code.
func stripCountryCode(s, cc string) string {
	if cc == "" {
		return s
	}
	s = strings.TrimPrefix(s, "+")
	s = strings.TrimPrefix(s, cc)
	return strings.TrimLeftFunc(s, func(r rune) bool {
		return r == '-' || r == ' ' || r == '(' || r == ')' || unicode.IsSpace(r)
	})
}
