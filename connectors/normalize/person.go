package normalize

import (
	"strings"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/pii"
)

// Person builds the person reference of a source record: the ID validated
// and reduced to its keyed hash, masked and sealed forms; the name cleaned
// (inner spaces removed, as sources write 张 三); the phone, if any,
// normalised the same way (PersonName: spaces inside a Chinese name go,
// a latin name keeps its single spaces). f names the source's fields in
// defects. The ID and the name identify the person: their defects refuse
// the record. The phone is optional: a phone that is no phone is left out
// and returned as a field defect, its raw value sealed, so that the record
// is kept without it.
func Person(keys *pii.Keys, f PersonFields, name, idCard, phone string) (canon.PersonRef, []canon.FieldDefect, error) {
	id, _, err := ParseCitizenID(f.IDCard, idCard)
	if err != nil {
		return canon.PersonRef{}, nil, err
	}
	n, _, err := PersonName(f.Name, name)
	if err != nil {
		return canon.PersonRef{}, nil, err
	}
	p := canon.PersonRef{IDHash: keys.Hash("id", id.Number), IDMasked: pii.MaskID(id.Number), IDSealed: keys.Seal(id.Number),
		Name: n, NameMasked: pii.MaskName(n), Gender: id.Gender, BirthDate: id.Birth}
	var defects []canon.FieldDefect
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
type PersonFields struct{ Name, IDCard, Phone string }
