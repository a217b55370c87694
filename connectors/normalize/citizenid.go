package normalize

import (
	"strings"
	"time"
	"unicode"

	"github.com/ywtg/hub/canon"
)

// CitizenID is a validated 18-character citizen ID (GB 11643-1999).
type CitizenID struct {
	Number string // 18 characters, upper-case X
	Gender canon.Gender
	Birth  time.Time
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// CheckChar computes the ISO 7064 MOD 11-2 check character of the first 17
// digits.
func CheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// halfWidth turns full-width digits and letters into ASCII and drops
// spaces; it reports whether anything full-width was seen.
func halfWidth(s string) (string, bool) {
	var b strings.Builder
	fw := false
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９', r >= 'Ａ' && r <= 'Ｚ', r >= 'ａ' && r <= 'ｚ', r == '＋', r == '－':
			b.WriteRune(r - 0xFEE0)
			fw = true
		case unicode.IsSpace(r) || r == '\u3000':
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), fw
}

// ParseCitizenID validates and normalises a citizen ID: spaces and
// full-width characters are removed, a lower-case x is upper-cased, a
// 15-digit legacy ID is upgraded (19 inserted, check character computed).
// A wrong check character is a defect: it is never "fixed".
func ParseCitizenID(field, raw string) (CitizenID, []Repair, error) {
	s, fw := halfWidth(raw)
	var repairs []Repair
	if fw {
		repairs = append(repairs, FullWidthDigits)
	}
	if s == "" {
		return CitizenID{}, nil, defect(MissingField, field, "no citizen ID")
	}
	if strings.HasSuffix(s, "x") {
		s = s[:len(s)-1] + "X"
		repairs = append(repairs, UpperCasedX)
	}
	switch len(s) {
	case 15:
		if !allDigits(s) {
			return CitizenID{}, nil, defect(BadCitizenID, field, "15-character ID with non-digits")
		}
		s = s[:6] + "19" + s[6:]
		s += string(CheckChar(s))
		repairs = append(repairs, UpgradedID15)
	case 18:
		if !allDigits(s[:17]) || !(s[17] == 'X' || (s[17] >= '0' && s[17] <= '9')) {
			return CitizenID{}, nil, defect(BadCitizenID, field, "ID has characters other than digits and a final X")
		}
		if CheckChar(s[:17]) != s[17] {
			return CitizenID{}, nil, defect(BadChecksum, field, "check character %c does not match (MOD 11-2 gives %c)", s[17], CheckChar(s[:17]))
		}
	default:
		return CitizenID{}, nil, defect(BadCitizenID, field, "ID has %d characters, want 18 (or a legacy 15)", len(s))
	}
	if s[0] < '1' || s[0] > '8' {
		return CitizenID{}, nil, defect(BadCitizenID, field, "region code %s is not a Chinese region", s[:6])
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1900 || birth.After(time.Now()) {
		return CitizenID{}, nil, defect(BadCitizenID, field, "birth date %s is not a plausible date", s[6:14])
	}
	g := canon.Female
	if (s[16]-'0')%2 == 1 {
		g = canon.Male
	}
	return CitizenID{Number: s, Gender: g, Birth: birth}, repairs, nil
}

// ValidCitizenID reports whether s is an already-normal valid 18-character ID.
func ValidCitizenID(s string) bool {
	id, _, err := ParseCitizenID("id", s)
	return err == nil && id.Number == s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
