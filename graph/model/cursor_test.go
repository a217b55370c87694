package model

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/ywtg/hub/store"
)

// TestCursorRoundTrips: a cursor is base64url of "order|key|id", whatever
// the key's length or script, and ParseCursor gives its position back.
func TestCursorRoundTrips(t *testing.T) {
	for _, p := range []store.Position{
		{Order: "REPORTED_AT_DESC", Key: "2026-12-06T09:30:00.123456+08:00", ID: 42},
		{Order: "CODE", Key: "420606001001", ID: 1},
		{Order: "NAME", Key: "江岸区" + strings.Repeat("街道社区网格", 20), ID: 1<<62 + 7},
		{Order: "", Key: "", ID: 0},
		{Order: "DUE_AT_ASC", Key: "", ID: -1},
	} {
		c := Cursor(p)
		want := base64.RawURLEncoding.EncodeToString([]byte(p.Order + "|" + p.Key + "|" + strconv.FormatInt(p.ID, 10)))
		if c != want {
			t.Errorf("%+v: cursor %q, want %q", p, c, want)
		}
		got, err := ParseCursor(&c)
		if err != nil || got == nil || *got != p {
			t.Errorf("%+v: parsed back as %+v (%v)", p, got, err)
		}
	}
}
