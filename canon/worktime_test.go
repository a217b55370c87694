package canon_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
)

func TestAddWorkHours(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation(time.DateTime, s, canon.ChinaTime)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		start string
		hours float64
		want  string
	}{
		{"inside morning", "2026-10-26 09:00:00", 2, "2026-10-26 11:00:00"},
		{"across lunch", "2026-10-26 11:00:00", 2, "2026-10-26 15:00:00"},
		{"before opening", "2026-10-26 07:00:00", 1, "2026-10-26 09:30:00"},
		{"evening report", "2026-10-26 20:00:00", 4, "2026-10-27 14:30:00"},
		{"one working day", "2026-10-26 08:30:00", 7.5, "2026-10-26 18:00:00"},
		{"over the weekend", "2026-10-30 17:00:00", 2, "2026-11-02 09:30:00"},
		{"saturday", "2026-10-31 10:00:00", 0.5, "2026-11-02 09:00:00"},
		{"72 working hours", "2026-10-26 08:30:00", 72, "2026-11-06 15:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := canon.AddWorkHours(at(tt.start), tt.hours)
			if !got.Equal(at(tt.want)) {
				t.Errorf("AddWorkHours(%s, %v) = %s, want %s", tt.start, tt.hours, got.Format(time.DateTime), tt.want)
			}
			// Measuring back from a working instant gives the hours added.
			if h := canon.WorkHoursBetween(at(tt.start), got); math.Abs(h-tt.hours) > 1e-6 {
				t.Errorf("WorkHoursBetween(%s, %s) = %v, want %v", tt.start, got.Format(time.DateTime), h, tt.hours)
			}
		})
	}
}

func TestWorkHoursBetween(t *testing.T) {
	at := func(s string) time.Time {
		v, _ := time.ParseInLocation(time.DateTime, s, canon.ChinaTime)
		return v
	}
	tests := []struct {
		a, b string
		want float64
	}{
		{"2026-10-26 07:00:00", "2026-10-26 08:30:00", 0},
		{"2026-10-26 12:00:00", "2026-10-26 14:00:00", 0},
		{"2026-10-26 00:00:00", "2026-10-27 00:00:00", 7.5},
		{"2026-10-31 00:00:00", "2026-11-02 00:00:00", 0},
		{"2026-10-26 00:00:00", "2026-11-02 00:00:00", 37.5},
		{"2026-10-30 17:00:00", "2026-11-02 09:30:00", 2},
		{"2026-11-02 09:30:00", "2026-10-30 17:00:00", -2},
		{"1969-12-29 00:00:00", "1970-01-05 00:00:00", 37.5},
	}
	for _, tt := range tests {
		if got := canon.WorkHoursBetween(at(tt.a), at(tt.b)); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("WorkHoursBetween(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	// AddWorkHours and WorkHoursBetween are inverse over random instants.
	rng := rand.New(rand.NewPCG(1, 2))
	base := at("2016-01-01 00:00:00")
	for range 2000 {
		start := base.Add(time.Duration(rng.Int64N(int64(11 * 365 * 24 * time.Hour))))
		h := rng.Float64() * 200
		end := canon.AddWorkHours(start, h)
		if got := canon.WorkHoursBetween(start, end); math.Abs(got-h) > 1e-6 {
			t.Fatalf("WorkHoursBetween(%s, AddWorkHours(·, %v)) = %v", start, h, got)
		}
	}
}
