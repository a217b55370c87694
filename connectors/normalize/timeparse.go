package normalize

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// CST is China Standard Time; China has no daylight saving since 1991, so a
// fixed zone is exact and needs no tzdata.
var CST = time.FixedZone("CST", 8*3600)

var layouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006/01/02 15:04:05",
	"2006-01-02 15:04",
	"20060102150405",
	"2006-01-02",
}

// Times parses source times: zone-less strings are China time, numbers
// are epoch milliseconds (13 digits) or seconds (10 digits). Times before
// Min or more than a day after Now are implausible.
type Times struct {
	Now func() time.Time
	Min time.Time
}

// DefaultTimes accepts times from 1949-10-01 to a day from now.
func DefaultTimes() Times {
	return Times{Now: time.Now, Min: time.Date(1949, 10, 1, 0, 0, 0, 0, CST)}
}

// Parse reads a JSON time value: a string or a number.
func (p Times) Parse(field string, raw json.RawMessage) (time.Time, []Repair, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" || s == `""` {
		return time.Time{}, nil, defect(MissingField, field, "no time")
	}
	if s[0] == '"' {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return time.Time{}, nil, defect(BadTime, field, "undecodable time %s", s)
		}
		return p.ParseString(field, str)
	}
	return p.ParseString(field, s)
}

// ParseDeadline reads a due time: like Parse, but a deadline may lie in
// the future (up to two years ahead).
func (p Times) ParseDeadline(field string, raw json.RawMessage) (time.Time, []Repair, error) {
	return p.future().Parse(field, raw)
}

// ParseDeadlineString is ParseDeadline for a string.
func (p Times) ParseDeadlineString(field, s string) (time.Time, []Repair, error) {
	return p.future().ParseString(field, s)
}

func (p Times) future() Times {
	now := p.Now
	return Times{Now: func() time.Time { return now().AddDate(2, 0, 0) }, Min: p.Min}
}

// ParseString reads a time string.
func (p Times) ParseString(field, s string) (time.Time, []Repair, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil, defect(MissingField, field, "no time")
	}
	var t time.Time
	var repairs []Repair
	if allDigits(s) && (len(s) == 13 || len(s) == 10) {
		n, _ := strconv.ParseInt(s, 10, 64)
		if len(s) == 13 {
			t = time.UnixMilli(n)
		} else {
			t = time.Unix(n, 0)
		}
		repairs = append(repairs, EpochMillis)
	} else {
		ok := false
		for _, l := range layouts {
			if tt, err := time.ParseInLocation(l, s, CST); err == nil {
				t, ok = tt, true
				if l != time.RFC3339Nano {
					repairs = append(repairs, ZonelessTime)
				}
				break
			}
		}
		if !ok {
			return time.Time{}, nil, defect(BadTime, field, "%q is not a time", s)
		}
	}
	if t.Before(p.Min) || t.After(p.Now().Add(24*time.Hour)) {
		return time.Time{}, nil, defect(Implausible, field, "%s is implausible", t.In(CST).Format(time.DateTime))
	}
	return t, repairs, nil
}
