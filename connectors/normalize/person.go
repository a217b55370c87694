package normalize

import (
	"strings"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/pii"
)

// Person builds the person reference of a source record: the ID validated
// and reduced to its keyed hash, masked and sealed forms; the name cleaned
// (inner spaces removed, as sources write 张 三); the phone, if any,
// normalised the same way (PersonName: spaces inside a Chinese name go,
// a latin name keeps its single spaces). f names the source's fields in
// defects. The name identifies the person: its defect refuses the record.
// The ID and the phone are field defects of the record, never a reason to
// lose it: an ID that fails validation (a wrong check digit, a bad length)
// is left out of the reference and returned as a field defect with its raw
// value sealed, and entity resolution links the record by its other
// fields; the birth date and sex its digits still say are kept (the other
// digits of an ID with a wrong check digit are usually right). A record
// without an ID (a hotline reporter known by name and phone) has none; a
// missing ID where f.RequireID is a field defect too.
func Person(keys *pii.Keys, f PersonFields, name, idCard, phone string) (canon.PersonRef, []canon.FieldDefect, error) {
	n, _, err := PersonName(f.Name, name)
	if err != nil {
		return canon.PersonRef{}, nil, err
	}
	p := canon.PersonRef{Name: n, NameMasked: pii.MaskName(n)}
	var defects []canon.FieldDefect
	if strings.TrimSpace(idCard) != "" || f.RequireID {
		id, _, err := ParseCitizenID(f.IDCard, idCard)
		if err != nil {
			defects = append(defects, SealedFieldDefect(err, keys, idCard))
			p.BirthDate, p.Gender = idDigits(idCard)
		} else {
			p.IDHash, p.IDMasked, p.IDSealed = keys.Hash("id", id.Number), pii.MaskID(id.Number), keys.Seal(id.Number)
			p.Gender, p.BirthDate = id.Gender, id.Birth
		}
	}
	if strings.TrimSpace(phone) != "" {
		ph, _, err := ParsePhone(f.Phone, phone)
		if err != nil {
			defects = append(defects, SealedFieldDefect(err, keys, phone))
		} else {
			p.PhoneHash, p.PhoneMasked, p.PhoneSealed = keys.Hash("phone", ph.Number), pii.MaskPhone(ph.Number), keys.Seal(ph.Number)
		}
	}
	return p, defects, nil
}

// idDigits returns the birth date and sex an 18-character ID that failed
// validation still states, zero values when its digits say nothing
// plausible.
func idDigits(raw string) (time.Time, canon.Gender) {
	s, _ := compact(raw)
	if len(s) != 18 || !allDigits(s[:17]) {
		return time.Time{}, ""
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Before(earliestBirth) || birth.After(today(time.Now())) {
		return time.Time{}, ""
	}
	if (s[16]-'0')%2 == 1 {
		return birth, canon.Male
	}
	return birth, canon.Female
}

// FieldDefect turns the defect of an optional field into the field
// defect a record is stored with; raw is the value as received (sealed
// when it is personal data).
func FieldDefect(err error, raw []byte) canon.FieldDefect {
	if d, ok := AsDefect(err); ok {
		return canon.FieldDefect{Field: d.Field, Reason: string(d.Reason), Message: d.Message, Raw: raw}
	}
	return canon.FieldDefect{Reason: "MALFORMED", Message: err.Error(), Raw: raw}
}

// SealedFieldDefect is FieldDefect for personal data: the value is sealed
// and identified by its keyed hash.
func SealedFieldDefect(err error, keys *pii.Keys, value string) canon.FieldDefect {
	d := FieldDefect(err, keys.Seal(value))
	d.Sealed, d.Key = true, keys.Hash("field/"+d.Field, value)
	return d
}

// PersonFields are a source's names of the person fields of a record.
// RequireID: the source's record of this kind always carries a citizen ID
// (a resident, a party member), so a missing one is a field defect; a
// reporter without one is not.
type PersonFields struct {
	Name, IDCard, Phone string
	RequireID           bool
}
