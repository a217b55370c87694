// Package normalize holds the shared normalisers every connector uses to
// turn a source system's native values into canonical ones: citizen IDs
// (GB 11643-1999), phone numbers, personal names, free text, coordinates
// (BD-09, GCJ-02, WGS-84), times and dates, and the code tables of the
// three source systems mapped onto the unified lifecycle and taxonomy.
// Addresses are parsed and matched against the region tree and the known
// compounds by package address, which the API serves too.
//
// # Defects
//
// A value that cannot be normalised is a *Defect carrying a Reason; a
// connector quarantines the record under that reason (connectors.QuarantineFor
// reads it through DefectReason). The reasons:
//
//	MISSING_FIELD     a required value is empty
//	BAD_CITIZEN_ID    not an 18-character (or legacy 15-digit) ID, bad birth date or region
//	BAD_CHECKSUM      the MOD 11-2 check character is wrong (never "fixed")
//	BAD_PHONE         neither a mainland mobile nor a landline with area code
//	BAD_NAME          a personal name with digits, control characters or symbols
//	BAD_COORDINATES   NaN, infinite, (0, 0) or outside ±90/±180
//	OUT_OF_CHINA      a valid position outside China's bounds
//	BAD_TIME          a time or date in no known layout
//	IMPLAUSIBLE_TIME  before the field's minimum (1949-10-01 for case times) or in the future
//	UNKNOWN_CODE      a code not in the tables of docs/sources.md (or an unknown datum)
//	BAD_ENCODING      text that is not UTF-8 (GBK bytes in a UTF-8 field)
//	TEXT_TOO_LONG     text over the field's limit where truncation is not allowed
//	UNKNOWN_GRID      a grid code not in the reference layer (set by connectors)
//
// # Repairs
//
// A value corrected on the way is reported as a Repair, never silently, so
// connectors can count and audit them; the raw payload is kept anyway:
//
//	ID_UPGRADED_FROM_15    legacy 15-digit ID upgraded (19 inserted, check computed)
//	ID_X_UPPER_CASED       lower-case x check character
//	FULL_WIDTH_DIGITS      full-width digits, letters or punctuation folded to ASCII
//	PHONE_FORMATTING       separators (spaces, dashes, dots, brackets) removed or a dash added
//	COUNTRY_CODE_STRIPPED  +86 / 0086 / 86 removed
//	DATUM_CONVERTED        BD-09 or GCJ-02 converted to WGS-84
//	LAT_LNG_SWAPPED        latitude and longitude were swapped
//	ZONELESS_TIME          a time without zone read as Asia/Shanghai
//	EPOCH_MILLIS           epoch milliseconds
//	EPOCH_SECONDS          epoch seconds
//	TIME_OF_DAY_DROPPED    a date field held a full timestamp
//	HTML_STRIPPED          markup or entities removed from text
//	WHITESPACE_NORMALIZED  runs of spaces, tabs, CRLF or blank lines collapsed
//	TEXT_TRUNCATED         free text cut at a rune boundary (CleanText only)
//	GBK_DECODED            GBK bytes decoded to UTF-8
//	NAME_CLEANED           spaces inside a Chinese name removed, middle dot unified
//	CHINESE_NUMERALS       三栋 → 3栋 in the house part of an address
//
// Nothing here panics on any input, and there is no mutable package state:
// the lookup tables are built once at initialisation and only read.
//
// normalize imports canon, datum, pii and address of the hub, the standard
// library and golang.org/x/text.
package normalize

import (
	"errors"
	"fmt"
)

// Reason classifies a defect; connectors use it as the quarantine reason.
type Reason string

// Defect reasons.
const (
	BadCitizenID   Reason = "BAD_CITIZEN_ID"
	BadChecksum    Reason = "BAD_CHECKSUM"
	BadPhone       Reason = "BAD_PHONE"
	BadName        Reason = "BAD_NAME"
	BadCoordinates Reason = "BAD_COORDINATES"
	OutOfChina     Reason = "OUT_OF_CHINA"
	BadTime        Reason = "BAD_TIME"
	Implausible    Reason = "IMPLAUSIBLE_TIME"
	UnknownCode    Reason = "UNKNOWN_CODE"
	MissingField   Reason = "MISSING_FIELD"
	BadEncoding    Reason = "BAD_ENCODING"
	TextTooLong    Reason = "TEXT_TOO_LONG"
	UnknownGrid    Reason = "UNKNOWN_GRID"
)

// Defect is a value that cannot be normalised. Messages never repeat the
// raw personal value (ID number, phone): they end up in logs and the
// quarantine list, and the raw payload is kept beside them anyway.
type Defect struct {
	Reason  Reason
	Field   string // the source field, as the connector names it
	Message string
}

func (d *Defect) Error() string { return fmt.Sprintf("%s %s: %s", d.Reason, d.Field, d.Message) }

// DefectReason lets connectors read a defect without importing this package.
func (d *Defect) DefectReason() (reason, field, message string) {
	return string(d.Reason), d.Field, d.Message
}

func defect(r Reason, field, format string, args ...any) *Defect {
	return &Defect{Reason: r, Field: field, Message: fmt.Sprintf(format, args...)}
}

// AsDefect finds a *Defect in err's chain.
func AsDefect(err error) (*Defect, bool) {
	var d *Defect
	ok := errors.As(err, &d)
	return d, ok
}

// Repair names a legitimate correction made while normalising.
type Repair string

// Repairs.
const (
	UpgradedID15         Repair = "ID_UPGRADED_FROM_15"
	UpperCasedX          Repair = "ID_X_UPPER_CASED"
	FullWidthDigits      Repair = "FULL_WIDTH_DIGITS"
	PhoneFormatting      Repair = "PHONE_FORMATTING"
	CountryCodeStripped  Repair = "COUNTRY_CODE_STRIPPED"
	DatumConverted       Repair = "DATUM_CONVERTED"
	SwappedLatLng        Repair = "LAT_LNG_SWAPPED"
	ZonelessTime         Repair = "ZONELESS_TIME"
	EpochMillis          Repair = "EPOCH_MILLIS"
	EpochSeconds         Repair = "EPOCH_SECONDS"
	TimeOfDayDropped     Repair = "TIME_OF_DAY_DROPPED"
	HTMLStripped         Repair = "HTML_STRIPPED"
	WhitespaceNormalized Repair = "WHITESPACE_NORMALIZED"
	TextTruncated        Repair = "TEXT_TRUNCATED"
	GBKDecoded           Repair = "GBK_DECODED"
	NameCleaned          Repair = "NAME_CLEANED"
	ChineseNumerals      Repair = "CHINESE_NUMERALS"
	// UnlistedRegion is a warning, not a change: the region code of a
	// citizen ID lies under a known prefecture but is not in the GB/T 2260
	// table.
	UnlistedRegion Repair = "ID_REGION_UNLISTED"
)

// addRepair appends r unless it is already listed.
func addRepair(rs []Repair, r Repair) []Repair {
	for _, x := range rs {
		if x == r {
			return rs
		}
	}
	return append(rs, r)
}
