package normalize

import (
	"strings"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/pii"
)

// CitizenID is a validated 18-character citizen ID (GB 11643-1999):
// 6 region digits, 8 birth-date digits, 3 sequence digits (odd = male) and
// the ISO 7064 MOD 11-2 check character.
type CitizenID struct {
	Number string // 18 characters, upper-case X
	Gender canon.Gender
	Birth  time.Time // the birth date, midnight UTC
	Region string    // the 6-digit region code of issue (GB/T 2260)
}

// Masked keeps the first 6 and last 4 characters: 420606********1239.
func (id CitizenID) Masked() string {
	if len(id.Number) != 18 {
		return strings.Repeat("*", len(id.Number))
	}
	return id.Number[:6] + "********" + id.Number[14:]
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// CheckChar computes the ISO 7064 MOD 11-2 check character of the first 17
// digits. It returns 0 when first17 is not at least 17 ASCII digits.
func CheckChar(first17 string) byte {
	if len(first17) < 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// earliestBirth is the first plausible birth date of a living record.
var earliestBirth = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseCitizenID validates and normalises a citizen ID: spaces and
// full-width characters are removed, a lower-case x is upper-cased, a
// 15-digit legacy ID is upgraded (19 inserted, check character computed).
// A wrong check character is a BAD_CHECKSUM defect: it is never "fixed".
// The birth date must be a real date from 1900 to today, the region code
// must start with 1–8 (8 covers Hong Kong, Macao and Taiwan residents).
func ParseCitizenID(field, raw string) (CitizenID, []Repair, error) {
	s, fw := compact(raw)
	var repairs []Repair
	if fw {
		repairs = append(repairs, FullWidthDigits)
	}
	// CSV exports opened in a spreadsheet keep IDs as text with a quote.
	s = strings.TrimPrefix(s, "'")
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
			return CitizenID{}, nil, defect(BadCitizenID, field, "15-character ID with characters other than digits")
		}
		s = s[:6] + "19" + s[6:]
		s += string(CheckChar(s))
		repairs = append(repairs, UpgradedID15)
	case 18:
		if !allDigits(s[:17]) || !(s[17] == 'X' || (s[17] >= '0' && s[17] <= '9')) {
			return CitizenID{}, nil, defect(BadCitizenID, field, "ID has characters other than digits and a final X")
		}
		if CheckChar(s[:17]) != s[17] {
			return CitizenID{}, nil, defect(BadChecksum, field, "the check character does not match (ISO 7064 MOD 11-2)")
		}
	default:
		return CitizenID{}, nil, defect(BadCitizenID, field, "ID has %d characters, want 18 (or a legacy 15)", len([]rune(s)))
	}
	if s[0] < '1' || s[0] > '8' {
		return CitizenID{}, nil, defect(BadCitizenID, field, "region code %s is not a Chinese region", s[:6])
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Before(earliestBirth) || birth.After(today(time.Now())) {
		return CitizenID{}, nil, defect(BadCitizenID, field, "the birth date is not a plausible date")
	}
	g := canon.Female
	if (s[16]-'0')%2 == 1 {
		g = canon.Male
	}
	return CitizenID{Number: s, Gender: g, Birth: birth, Region: s[:6]}, repairs, nil
}

// ValidCitizenID reports whether s is an already-normal valid 18-character ID.
func ValidCitizenID(s string) bool {
	if len(s) != 18 {
		return false
	}
	id, repairs, err := ParseCitizenID("id", s)
	return err == nil && len(repairs) == 0 && id.Number == s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Hasher computes the keyed matching hashes of normalised personal
// identifiers: HMAC-SHA256 under a key derived from a master secret, with
// the kind of value ("id", "phone") in the message so an ID and a phone
// never collide. It is the pii package's hash, typed: only a parsed
// CitizenID or Phone can be hashed, so an unnormalised value never becomes
// a key.
type Hasher struct {
	keys *pii.Keys
}

// NewHasher derives a hasher from a master secret of at least 32 bytes;
// the same secret gives the same hashes as pii.NewKeys(secret).Hash.
func NewHasher(key []byte) (*Hasher, error) {
	k, err := pii.NewKeys(key)
	if err != nil {
		return nil, err
	}
	return &Hasher{keys: k}, nil
}

// HashID is the matching key of a person: HMAC-SHA256 of the 18-character
// number.
func (h *Hasher) HashID(id CitizenID) []byte { return h.keys.Hash("id", id.Number) }

// HashPhone is the matching hash of a normalised phone number.
func (h *Hasher) HashPhone(p Phone) []byte { return h.keys.Hash("phone", p.Number) }
