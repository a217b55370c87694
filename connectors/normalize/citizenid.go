package normalize

import (
	_ "embed"
	"strings"
	"sync"
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
// The birth date must be a real date from 1900 to today. The region code
// is checked against every GB/T 2260 code in use since 1981 (see
// CheckRegionCode): an unknown province or prefecture is a BAD_CITIZEN_ID
// defect, an unlisted county under a known prefecture is accepted with the
// repair warning ID_REGION_UNLISTED.
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
	switch regionCodes().check(s[:6]) {
	case regionUnlisted:
		repairs = append(repairs, UnlistedRegion)
	case regionUnknown:
		return CitizenID{}, nil, defect(BadCitizenID, field, "region code %s is no GB/T 2260 province and prefecture", s[:6])
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

// gbt2260 is the table of GB/T 2260 codes, current and historical, with its
// source (data/gbt2260.txt).
//
//go:embed data/gbt2260.txt
var gbt2260 string

// regionTable is the set of GB/T 2260 codes ever in use.
type regionTable map[string]bool

// regionCodes parses the embedded table once; it is read-only after.
var regionCodes = sync.OnceValue(func() regionTable {
	t := regionTable{}
	for _, line := range strings.Split(gbt2260, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		pref, counties, ok := strings.Cut(line, ":")
		if !ok || len(pref) != 4 {
			panic("normalize: malformed line in data/gbt2260.txt: " + line)
		}
		for _, c := range strings.Fields(counties) {
			t[pref+c] = true
		}
	}
	return t
})

type regionCheck int

const (
	regionKnown    regionCheck = iota // a GB/T 2260 code, current or historical
	regionUnlisted                    // a county code not listed under a known prefecture
	regionUnknown                     // no known province and prefecture
)

// check classifies a 6-digit region code of a citizen ID.
func (t regionTable) check(code string) regionCheck {
	if len(code) != 6 || !allDigits(code) {
		return regionUnknown
	}
	if t[code] {
		return regionKnown
	}
	// XXXX01 is the "市辖区" (districts of the city) code every
	// prefecture-level city had; the table lists only named divisions.
	if code[4:] == "01" && t[code[:4]+"00"] {
		return regionKnown
	}
	if !t[code[:2]+"0000"] {
		return regionUnknown
	}
	// A prefecture is known when any code lies under it: the groups of
	// the municipalities (500100 市辖区, 500200 县 of 重庆) are not listed
	// as divisions, yet IDs carry them.
	underPrefecture := false
	for c := 0; c < 100 && !underPrefecture; c++ {
		underPrefecture = t[code[:4]+string(rune('0'+c/10))+string(rune('0'+c%10))]
	}
	switch {
	case !underPrefecture:
		return regionUnknown
	case code[4:] == "00":
		return regionKnown // the prefecture-level code itself
	}
	return regionUnlisted
}

// CheckRegionCode reports whether a 6-digit code is a GB/T 2260 code in
// use at any time since 1981 (known), a county code not in the table under
// a known province and prefecture (unlisted: plausible, possibly a code
// older than the table or newer than it), or neither.
func CheckRegionCode(code string) (known, unlisted bool) {
	switch regionCodes().check(code) {
	case regionKnown:
		return true, false
	case regionUnlisted:
		return false, true
	}
	return false, false
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
