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
// defects.
func Person(keys *pii.Keys, f PersonFields, name, idCard, phone string) (canon.PersonRef, error) {
	id, _, err := ParseCitizenID(f.IDCard, idCard)
	if err != nil {
		return canon.PersonRef{}, err
	}
	n, _, err := PersonName(f.Name, name)
	if err != nil {
		return canon.PersonRef{}, err
	}
	p := canon.PersonRef{IDHash: keys.Hash("id", id.Number), IDMasked: pii.MaskID(id.Number), IDSealed: keys.Seal(id.Number),
		Name: n, NameMasked: pii.MaskName(n), Gender: id.Gender, BirthDate: id.Birth}
	if strings.TrimSpace(phone) != "" {
		ph, _, err := ParsePhone(f.Phone, phone)
		if err != nil {
			return canon.PersonRef{}, err
		}
		p.PhoneHash, p.PhoneMasked, p.PhoneSealed = keys.Hash("phone", ph.Number), pii.MaskPhone(ph.Number), keys.Seal(ph.Number)
	}
	return p, nil
}

// PersonFields are a source's names of the person fields of a record.
type PersonFields struct{ Name, IDCard, Phone string }
