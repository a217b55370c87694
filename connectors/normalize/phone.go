package normalize

import "strings"

// Phone is a normalised mainland mobile number (11 digits).
type Phone struct {
	Number string
}

// ParsePhone normalises +86/0086 prefixes, dashes, spaces, dots, brackets
// and full-width digits, and validates an 11-digit mobile number.
func ParsePhone(field, raw string) (Phone, []Repair, error) {
	s, fw := halfWidth(raw)
	var repairs []Repair
	if fw {
		repairs = append(repairs, FullWidthDigits)
	}
	clean := strings.Map(func(r rune) rune {
		switch r {
		case '-', '.', '(', ')', ' ':
			return -1
		}
		return r
	}, s)
	switch {
	case strings.HasPrefix(clean, "+86"):
		clean = clean[3:]
	case strings.HasPrefix(clean, "0086"):
		clean = clean[4:]
	case len(clean) == 13 && strings.HasPrefix(clean, "86"):
		clean = clean[2:]
	}
	if clean == "" {
		return Phone{}, nil, defect(MissingField, field, "no phone number")
	}
	if clean != s {
		repairs = append(repairs, PhoneFormatting)
	}
	if len(clean) != 11 || !allDigits(clean) || clean[0] != '1' || clean[1] < '3' {
		return Phone{}, nil, defect(BadPhone, field, "%q is not an 11-digit mainland mobile number", raw)
	}
	return Phone{Number: clean}, repairs, nil
}
