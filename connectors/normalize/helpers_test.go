package normalize_test

import (
	"errors"
	"testing"

	"github.com/ywtg/hub/connectors/normalize"
)

// wantDefect fails unless err is a *Defect with the reason.
func wantDefect(t *testing.T, name string, err error, reason normalize.Reason) {
	t.Helper()
	d, ok := normalize.AsDefect(err)
	if !ok {
		t.Errorf("%s: err %v, want a %s defect", name, err, reason)
		return
	}
	if d.Reason != reason {
		t.Errorf("%s: reason %s (%s), want %s", name, d.Reason, d.Message, reason)
	}
}

func hasRepair(rs []normalize.Repair, r normalize.Repair) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// sameRepairs compares repair lists as sets.
func sameRepairs(got, want []normalize.Repair) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if !hasRepair(got, w) {
			return false
		}
	}
	return true
}

func TestDefectError(t *testing.T) {
	var err error = &normalize.Defect{Reason: normalize.BadPhone, Field: "mobile", Message: "11 digits"}
	wrapped := errors.Join(errors.New("mapping resident 7"), err)
	d, ok := normalize.AsDefect(wrapped)
	if !ok || d.Reason != normalize.BadPhone || d.Field != "mobile" {
		t.Fatalf("AsDefect(%v) = %+v, %v", wrapped, d, ok)
	}
	if r, f, m := d.DefectReason(); r != "BAD_PHONE" || f != "mobile" || m != "11 digits" {
		t.Fatalf("DefectReason = %s %s %s", r, f, m)
	}
	if got := err.Error(); got != "BAD_PHONE mobile: 11 digits" {
		t.Fatalf("Error() = %q", got)
	}
	if _, ok := normalize.AsDefect(errors.New("plain")); ok {
		t.Fatal("a plain error is no defect")
	}
	if _, ok := normalize.AsDefect(nil); ok {
		t.Fatal("nil is no defect")
	}
}
