package normalize_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/pii"
)

// TestPersonKeepsTheRecordWithoutABadPhone: a phone that is no phone no
// longer refuses the person; it is left out and returned as a field
// defect with its raw value sealed and a stable key. Identity fields still
// refuse the record.
func TestPersonKeepsTheRecordWithoutABadPhone(t *testing.T) {
	keys, err := pii.NewKeys(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := normalize.PersonFields{Name: "name", IDCard: "idCard", Phone: "mobile"}
	p, defects, err := normalize.Person(keys, f, "张三", "420606198005011231", "138-abc")
	if err != nil {
		t.Fatal(err)
	}
	if p.IDHash == nil || p.PhoneHash != nil || p.PhoneSealed != nil || len(defects) != 1 {
		t.Fatalf("person %+v, defects %+v", p, defects)
	}
	d := defects[0]
	if d.Field != "mobile" || d.Reason != string(normalize.BadPhone) || !d.Sealed || d.Key == nil {
		t.Fatalf("defect %+v", d)
	}
	if v, err := keys.Open(d.Raw); err != nil || v != "138-abc" {
		t.Fatalf("sealed raw opens to %q, %v", v, err)
	}
	_, again, _ := normalize.Person(keys, f, "张三", "420606198005011231", "138-abc")
	if !bytes.Equal(again[0].Key, d.Key) || bytes.Equal(again[0].Raw, d.Raw) {
		t.Fatal("the key must be stable and the sealed form fresh")
	}
	if p, defects, err := normalize.Person(keys, f, "张三", "420606198005011231", "400-810-8888"); err != nil || p.PhoneHash == nil || len(defects) != 0 {
		t.Fatalf("service number: %+v %v %v", p, defects, err)
	}
	// An ID failing its check digit is a field defect: the record is kept
	// without the ID, with the birth date and sex its digits state.
	p, defects, err = normalize.Person(keys, f, "张三", "420606198005011234", "13800001111")
	if err != nil || p.IDHash != nil || p.IDSealed != nil || p.PhoneHash == nil || len(defects) != 1 {
		t.Fatalf("bad check digit: %+v %+v %v", p, defects, err)
	}
	if d := defects[0]; d.Field != "idCard" || d.Reason != string(normalize.BadChecksum) || !d.Sealed {
		t.Fatalf("ID defect %+v", d)
	}
	if p.BirthDate.Format("20060102") != "19800501" || p.Gender != "MALE" {
		t.Fatalf("birth %v, gender %q kept from the digits", p.BirthDate, p.Gender)
	}
	// Without an ID (a hotline reporter) the record names its person by
	// name and phone.
	if p, defects, err := normalize.Person(keys, f, "张三", "", "13800001111"); err != nil || p.IDHash != nil || p.PhoneHash == nil || len(defects) != 0 {
		t.Fatalf("no ID: %+v %+v %v", p, defects, err)
	}
	if _, _, err := normalize.Person(keys, f, "", "420606198005011231", "13800001111"); err == nil {
		t.Fatal("a record without a name names nobody")
	}
}

// TestPersonRequiredID: where the source always records an ID, a missing
// one is a field defect of the kept record.
func TestPersonRequiredID(t *testing.T) {
	keys, err := pii.NewKeys([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	f := normalize.PersonFields{Name: "xm", IDCard: "sfzh", Phone: "lxdh", RequireID: true}
	p, defects, err := normalize.Person(keys, f, "张三", " ", "")
	if err != nil || p.IDHash != nil || len(defects) != 1 || defects[0].Field != "sfzh" || defects[0].Reason != string(normalize.MissingField) {
		t.Fatalf("missing required ID: %+v %+v %v", p, defects, err)
	}
	f.RequireID = false
	if _, defects, err := normalize.Person(keys, f, "张三", "", ""); err != nil || len(defects) != 0 {
		t.Fatalf("missing optional ID: %+v %v", defects, err)
	}
}
