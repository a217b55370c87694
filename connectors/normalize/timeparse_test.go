package normalize_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/connectors/normalize"
)

// fixed is a deterministic parser: now is 2026-11-01 08:00 in China.
var fixed = normalize.Times{
	Now: func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) },
	Min: time.Date(1949, 10, 1, 0, 0, 0, 0, time.UTC),
}

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 2, 24, 12, 10, 5, 0, time.UTC) // 20:10:05 in China
	const (
		zoneless = normalize.ZonelessTime
		ms       = normalize.EpochMillis
		sec      = normalize.EpochSeconds
	)
	tests := []struct {
		raw     string // JSON
		want    time.Time
		repairs []normalize.Repair
		reason  normalize.Reason
	}{
		{raw: `"2024-02-24 20:10:05"`, want: want, repairs: []normalize.Repair{zoneless}},
		{raw: `" 2024-02-24 20:10:05 "`, want: want, repairs: []normalize.Repair{zoneless}},
		{raw: `"2024-02-24T20:10:05"`, want: want, repairs: []normalize.Repair{zoneless}},
		{raw: `"2024/02/24 20:10:05"`, want: want, repairs: []normalize.Repair{zoneless}},
		{raw: `"20240224201005"`, want: want, repairs: []normalize.Repair{zoneless}},
		{raw: `"2024-02-24 20:10:05.000"`, want: want, repairs: []normalize.Repair{zoneless}},
		{raw: `"2024-02-24 20:10"`, want: want.Add(-5 * time.Second), repairs: []normalize.Repair{zoneless}},
		{raw: `"2024/02/24 20:10"`, want: want.Add(-5 * time.Second), repairs: []normalize.Repair{zoneless}},
		{raw: `"2024-02-24"`, want: time.Date(2024, 2, 23, 16, 0, 0, 0, time.UTC), repairs: []normalize.Repair{zoneless}},
		{raw: `"2024-02-24T20:10:05+08:00"`, want: want},
		{raw: `"2024-02-24T12:10:05Z"`, want: want},
		{raw: `"2024-02-24T12:10:05.000Z"`, want: want},
		{raw: `"2024-02-24 20:10:05+08:00"`, want: want},
		{raw: `"2024-02-24T20:10:05+0800"`, want: want},
		{raw: `"2024-02-24T21:10:05+09:00"`, want: want},
		{raw: `1708776605000`, want: want, repairs: []normalize.Repair{ms}},
		{raw: `"1708776605000"`, want: want, repairs: []normalize.Repair{ms}},
		{raw: `1708776605`, want: want, repairs: []normalize.Repair{sec}},
		{raw: `"1708776605"`, want: want, repairs: []normalize.Repair{sec}},

		{raw: `null`, reason: normalize.MissingField},
		{raw: `""`, reason: normalize.MissingField},
		{raw: `"  "`, reason: normalize.MissingField},
		{raw: `"yesterday"`, reason: normalize.BadTime},
		{raw: `"2024-02-30 10:00:00"`, reason: normalize.BadTime},
		{raw: `"2024-13-01"`, reason: normalize.BadTime},
		{raw: `"24-02-24 20:10"`, reason: normalize.BadTime},
		{raw: `17087766050`, reason: normalize.BadTime},        // 11 digits
		{raw: `-1708776605000`, reason: normalize.Implausible}, // 1915: epoch milliseconds, before Min
		{raw: `"-17087766050"`, reason: normalize.BadTime},     // 11 digits
		{raw: `1.5`, reason: normalize.BadTime},
		{raw: `"\u0000"`, reason: normalize.BadTime},
		{raw: `"1900-01-01 00:00:00"`, reason: normalize.Implausible},
		{raw: `"1949-09-30 23:59:59"`, reason: normalize.Implausible},
		{raw: `"2026-11-03 00:00:00"`, reason: normalize.Implausible}, // two days ahead
		{raw: `"2030-01-01 00:00:00"`, reason: normalize.Implausible},
		{raw: `"2026-11-01 20:00:00"`, want: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), repairs: []normalize.Repair{zoneless}}, // within a day
	}
	for _, tc := range tests {
		got, repairs, err := fixed.Parse("reportTime", json.RawMessage(tc.raw))
		if tc.reason != "" {
			wantDefect(t, tc.raw, err, tc.reason)
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%s → %v %v, want %v", tc.raw, got, err, tc.want)
			continue
		}
		if !sameRepairs(repairs, tc.repairs) {
			t.Errorf("%s: repairs %v, want %v", tc.raw, repairs, tc.repairs)
		}
		// ParseString agrees on string inputs.
		if strings.HasPrefix(tc.raw, `"`) {
			var s string
			_ = json.Unmarshal([]byte(tc.raw), &s)
			if g2, _, err := fixed.ParseString("t", s); err != nil || !g2.Equal(got) {
				t.Errorf("ParseString(%q) → %v %v", s, g2, err)
			}
		}
	}
}

func TestParseValue(t *testing.T) {
	want := time.Date(2024, 2, 24, 12, 10, 5, 0, time.UTC)
	s := "2024-02-24 20:10:05"
	for _, v := range []any{s, &s, []byte(s), json.RawMessage(`"` + s + `"`), json.Number("1708776605000"),
		float64(1708776605000), int64(1708776605000), int(1708776605), int32(1708776605), uint64(1708776605000), want} {
		got, _, err := fixed.ParseValue("t", v)
		if err != nil || !got.Equal(want) {
			t.Errorf("%T %v → %v %v", v, v, got, err)
		}
	}
	var nilString *string
	for v, reason := range map[any]normalize.Reason{nil: normalize.MissingField, 1.5: normalize.BadTime, true: normalize.BadTime, uint64(1 << 63): normalize.BadTime} {
		_, _, err := fixed.ParseValue("t", v)
		wantDefect(t, "value", err, reason)
	}
	_, _, err := fixed.ParseValue("t", nilString)
	wantDefect(t, "nil *string", err, normalize.MissingField)
	_, _, err = fixed.ParseValue("t", time.Time{})
	wantDefect(t, "zero time", err, normalize.MissingField)
	if _, _, err := normalize.ParseTime("t", "2024-02-24 20:10:05"); err != nil {
		t.Fatal(err)
	}
}

func TestParseDeadline(t *testing.T) {
	// A deadline may lie ahead, within reason.
	if _, _, err := fixed.ParseDeadline("due", json.RawMessage(`"2027-03-01 18:00:00"`)); err != nil {
		t.Errorf("future deadline refused: %v", err)
	}
	if _, _, err := fixed.ParseDeadlineString("due", "2027-03-01T18:00:00+08:00"); err != nil {
		t.Errorf("future deadline refused: %v", err)
	}
	_, _, err := fixed.ParseDeadline("due", json.RawMessage(`"2035-01-01 00:00:00"`))
	wantDefect(t, "nine years ahead", err, normalize.Implausible)
	_, _, err = normalize.Times{}.ParseDeadline("due", json.RawMessage(`1708776605000`))
	if err != nil {
		t.Errorf("zero Times: %v", err)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      any
		want    string
		repairs []normalize.Repair
		reason  normalize.Reason
	}{
		{in: "1980-05-01", want: "1980-05-01"},
		{in: "1980-5-1", want: "1980-05-01"},
		{in: "1980/05/01", want: "1980-05-01"},
		{in: "1980.5.1", want: "1980-05-01"},
		{in: "1980年5月1日", want: "1980-05-01"},
		{in: "1980年05月01日", want: "1980-05-01"},
		{in: "19800501", want: "1980-05-01"},
		{in: " 2021-07-01 ", want: "2021-07-01"},
		{in: "2021-07-01 00:00:00", want: "2021-07-01"},
		{in: "2021-07-01 09:30:00", want: "2021-07-01", repairs: []normalize.Repair{normalize.TimeOfDayDropped}},
		// Epoch milliseconds of 2021-07-01 00:00 in China, as rdrq may hold.
		{in: "1625068800000", want: "2021-07-01", repairs: []normalize.Repair{normalize.EpochMillis}},
		{in: float64(1625068800000), want: "2021-07-01", repairs: []normalize.Repair{normalize.EpochMillis}},
		// 23:30 UTC on 30 June is already 1 July in China.
		{in: "2021-06-30T23:30:00Z", want: "2021-07-01", repairs: []normalize.Repair{normalize.TimeOfDayDropped}},
		// Before 2001-09-09 milliseconds have 12 digits; before 1970 they are negative.
		{in: "398777721000", want: "1982-08-21", repairs: []normalize.Repair{normalize.EpochMillis, normalize.TimeOfDayDropped}},
		{in: "-362563200000", want: "1958-07-07", repairs: []normalize.Repair{normalize.EpochMillis}},
		{in: "1921-07-23", want: "1921-07-23"}, // before 1949: fine for dates
		{in: "2026-11-02", want: "2026-11-02"}, // tomorrow: allowed slack

		{in: "", reason: normalize.MissingField},
		{in: nil, reason: normalize.MissingField},
		{in: "1899-12-31", reason: normalize.Implausible},
		{in: "2026-11-05", reason: normalize.Implausible},
		{in: "1980-02-30", reason: normalize.BadTime},
		{in: "五月一日", reason: normalize.BadTime},
		{in: "123", reason: normalize.BadTime},
	}
	for _, tc := range tests {
		got, repairs, err := fixed.ParseDate("rdrq", tc.in)
		if tc.reason != "" {
			wantDefect(t, "date", err, tc.reason)
			continue
		}
		if err != nil || got.Format(time.DateOnly) != tc.want || got.Location() != time.UTC || got.Hour() != 0 {
			t.Errorf("%v → %v %v, want %s", tc.in, got, err, tc.want)
			continue
		}
		if !sameRepairs(repairs, tc.repairs) {
			t.Errorf("%v: repairs %v, want %v", tc.in, repairs, tc.repairs)
		}
	}
	early := fixed
	early.DateMin = time.Date(1921, 7, 1, 0, 0, 0, 0, time.UTC)
	_, _, err := early.ParseDate("rdrq", "1920-01-01")
	wantDefect(t, "before DateMin", err, normalize.Implausible)
}

func TestShanghai(t *testing.T) {
	loc := normalize.Shanghai()
	if _, off := time.Date(2024, 7, 1, 12, 0, 0, 0, loc).Zone(); off != 8*3600 {
		t.Fatalf("offset %d", off)
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{`"2024-02-24 20:10:05"`, `1708776605000`, `"1708776605"`, `"2024-02-24T20:10:05+08:00"`, `null`, `"`, `{}`, `1e400`, `"2024年2月24日"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, _, err := fixed.Parse("t", json.RawMessage(s))
		if err != nil {
			if _, ok := normalize.AsDefect(err); !ok {
				t.Fatalf("%q: error %v is no defect", s, err)
			}
		} else if got.Before(fixed.Min) || got.After(fixed.Now().Add(24*time.Hour)) {
			t.Fatalf("%q → %v outside the plausible range", s, got)
		}
		d, _, err := fixed.ParseDate("d", s)
		if err == nil && (d.Hour() != 0 || d.Location() != time.UTC || d.Year() < 1900) {
			t.Fatalf("%q → date %v", s, d)
		}
	})
}

func BenchmarkParseTime(b *testing.B) {
	for name, raw := range map[string]string{"zoneless": `"2024-02-24 20:10:05"`, "rfc3339": `"2024-02-24T20:10:05+08:00"`, "epoch_ms": `1708776605000`} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := fixed.Parse("t", json.RawMessage(raw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
