// Package normalize holds the shared normalisers every connector uses:
// citizen IDs (GB 11643-1999), phone numbers, coordinates (BD-09, GCJ-02,
// WGS-84), times, and the code tables of the source systems mapped onto the
// unified lifecycle and taxonomy. A value that cannot be normalised is a
// *Defect with a reason code, which a connector turns into a quarantine
// entry; a value that was repaired on the way (a 15-digit ID upgraded, a
// datum converted) is reported as a Repair, never silently.
//
// normalize imports canon only.
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

// Defect is a value that cannot be normalised.
type Defect struct {
	Reason  Reason
	Field   string
	Message string
}

func (d *Defect) Error() string { return fmt.Sprintf("%s %s: %s", d.Reason, d.Field, d.Message) }

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
	UpgradedID15    Repair = "ID_UPGRADED_FROM_15"
	UpperCasedX     Repair = "ID_X_UPPER_CASED"
	FullWidthDigits Repair = "FULL_WIDTH_DIGITS"
	PhoneFormatting Repair = "PHONE_FORMATTING"
	DatumConverted  Repair = "DATUM_CONVERTED"
	SwappedLatLng   Repair = "LAT_LNG_SWAPPED"
	ZonelessTime    Repair = "ZONELESS_TIME"
	EpochMillis     Repair = "EPOCH_MILLIS"
	HTMLStripped    Repair = "HTML_STRIPPED"
)

// DefectReason lets connectors read a defect without importing this package.
func (d *Defect) DefectReason() (reason, field, message string) {
	return string(d.Reason), d.Field, d.Message
}
