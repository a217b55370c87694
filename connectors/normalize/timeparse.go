package normalize

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// shanghai is the zone of zone-less source times: Asia/Shanghai from the
// tz database, or, where the database is missing, a fixed +08:00 zone named
// CST. China has kept +08:00 without daylight saving since 1991, so the
// two agree on every time after that.
var shanghai = loadShanghai()

func loadShanghai() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}

// Shanghai returns the zone in which zone-less source times are read.
func Shanghai() *time.Location { return shanghai }

// today is the current date in China as midnight UTC, the representation of
// dates in this package.
func today(now time.Time) time.Time {
	y, m, d := now.In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Zone-less layouts, most frequent first.
var zonelessLayouts = []string{
	"2006-01-02 15:04:05", // fractional seconds are accepted too
	"2006-01-02T15:04:05",
	"2006/01/02 15:04:05",
	"2006-01-02 15:04",
	"2006/01/02 15:04",
	"20060102150405",
	"2006-01-02",
	"2006/01/02",
	"20060102",
}

// Layouts with an explicit offset.
var zonedLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
}

// Date-only layouts; single-digit months and days are accepted by "1"/"2".
var dateLayouts = []string{"2006-1-2", "2006/1/2", "2006.1.2", "2006年1月2日", "20060102"}

// Times parses source times: zone-less strings are China time (Shanghai),
// numbers and numeric strings of 12 or 13 digits are epoch milliseconds
// (negative before 1970), of 10 digits epoch seconds. A time before Min or more than a day after Now is
// IMPLAUSIBLE_TIME. ParseDate reads date-only fields with DateMin as the
// lower bound.
type Times struct {
	Now     func() time.Time // nil means time.Now
	Min     time.Time        // earliest plausible time; zero means no bound
	DateMin time.Time        // earliest plausible date for ParseDate; zero means 1900-01-01
}

// DefaultTimes accepts case times from the founding of the People's
// Republic (1949-10-01) to a day from now, and dates from 1900.
func DefaultTimes() Times {
	return Times{Now: time.Now, Min: time.Date(1949, 10, 1, 0, 0, 0, 0, shanghai)}
}

// ParseTime reads a time value with DefaultTimes; see Times.ParseValue.
func ParseTime(field string, v any) (time.Time, []Repair, error) {
	return DefaultTimes().ParseValue(field, v)
}

func (p Times) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

// Parse reads a JSON time value: a string or a number.
func (p Times) Parse(field string, raw json.RawMessage) (time.Time, []Repair, error) {
	t, repairs, err := p.parseJSON(field, raw)
	if err != nil {
		return time.Time{}, nil, err
	}
	return p.plausible(field, t, repairs)
}

func (p Times) parseJSON(field string, raw json.RawMessage) (time.Time, []Repair, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" || s == `""` {
		return time.Time{}, nil, defect(MissingField, field, "no time")
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && !strings.ContainsRune(s, '\\') {
		return parseTimeString(field, s[1:len(s)-1]) // no escapes: the common case
	}
	if s[0] == '"' {
		var str string
		if err := json.Unmarshal([]byte(s), &str); err != nil {
			return time.Time{}, nil, defect(BadTime, field, "undecodable time string")
		}
		return parseTimeString(field, str)
	}
	return parseTimeString(field, s)
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

// future is p with "now" two years ahead, for due times.
func (p Times) future() Times {
	now := p.now
	return Times{Now: func() time.Time { return now().AddDate(2, 0, 0) }, Min: p.Min, DateMin: p.DateMin}
}

// ParseString reads a time string.
func (p Times) ParseString(field, s string) (time.Time, []Repair, error) {
	t, repairs, err := parseTimeString(field, s)
	if err != nil {
		return time.Time{}, nil, err
	}
	return p.plausible(field, t, repairs)
}

// ParseValue reads a time from whatever a decoder produced: a string (any
// layout of ParseString), a JSON number or raw JSON, an integer or an
// integral float64 of epoch milliseconds or seconds, or a time.Time. nil
// and "" are MISSING_FIELD; other types BAD_TIME.
func (p Times) ParseValue(field string, v any) (time.Time, []Repair, error) {
	t, repairs, err := parseTimeValue(field, v)
	if err != nil {
		return time.Time{}, nil, err
	}
	return p.plausible(field, t, repairs)
}

func parseTimeValue(field string, v any) (time.Time, []Repair, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, nil, defect(MissingField, field, "no time")
	case string:
		return parseTimeString(field, x)
	case *string:
		if x == nil {
			return time.Time{}, nil, defect(MissingField, field, "no time")
		}
		return parseTimeString(field, *x)
	case []byte:
		return parseTimeString(field, string(x))
	case json.RawMessage:
		return Times{}.parseJSON(field, x)
	case json.Number:
		return parseTimeString(field, string(x))
	case time.Time:
		if x.IsZero() {
			return time.Time{}, nil, defect(MissingField, field, "no time")
		}
		return x, nil, nil
	case int:
		return epoch(field, int64(x))
	case int64:
		return epoch(field, x)
	case int32:
		return epoch(field, int64(x))
	case uint64:
		if x > math.MaxInt64 {
			return time.Time{}, nil, defect(BadTime, field, "number %d is not an epoch time", x)
		}
		return epoch(field, int64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || x != math.Trunc(x) || x < 0 || x >= 1e15 {
			return time.Time{}, nil, defect(BadTime, field, "number %v is not an epoch time", x)
		}
		return epoch(field, int64(x))
	}
	return time.Time{}, nil, defect(BadTime, field, "a %T is not a time", v)
}

// epoch reads milliseconds of 12 or 13 digits (1973-03 to 2286, negative
// for 1653 to 1966: join and birth dates reach before 1970) or seconds of
// 10 digits (2001 to 2286). Milliseconds before 2001-09-09 have only 12
// digits, so "13 digits" alone would refuse every older date; 11 digits
// are refused, as a 13-digit value that lost digits more likely than a
// time in 1970–1973.
func epoch(field string, n int64) (time.Time, []Repair, error) {
	switch {
	case n >= 1e11 && n < 1e13, n <= -1e11 && n > -1e13:
		return time.UnixMilli(n), []Repair{EpochMillis}, nil
	case n >= 1e9 && n < 1e10:
		return time.Unix(n, 0), []Repair{EpochSeconds}, nil
	}
	return time.Time{}, nil, defect(BadTime, field, "number %d is neither epoch milliseconds (12 or 13 digits) nor seconds (10)", n)
}

func parseTimeString(field, s string) (time.Time, []Repair, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil, defect(MissingField, field, "no time")
	}
	if digits := strings.TrimPrefix(s, "-"); allDigits(digits) && (len(digits) == 12 || len(digits) == 13 || len(digits) == 10 && digits == s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, nil, defect(BadTime, field, "%q is not a time", s)
		}
		return epoch(field, n)
	}
	if len(s) > 40 {
		return time.Time{}, nil, defect(BadTime, field, "%d characters is no time", len(s))
	}
	if hasZone(s) {
		for _, l := range zonedLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t, nil, nil
			}
		}
	}
	for _, l := range zonelessLayouts {
		if t, err := time.ParseInLocation(l, s, shanghai); err == nil {
			return t, []Repair{ZonelessTime}, nil
		}
	}
	return time.Time{}, nil, defect(BadTime, field, "%q is not a time in a known layout", s)
}

// hasZone reports whether a time string ends in an offset or Z.
func hasZone(s string) bool {
	if len(s) < 11 {
		return false
	}
	return strings.ContainsAny(s[10:], "+-Zz")
}

func (p Times) plausible(field string, t time.Time, repairs []Repair) (time.Time, []Repair, error) {
	if (!p.Min.IsZero() && t.Before(p.Min)) || t.After(p.now().Add(24*time.Hour)) {
		return time.Time{}, nil, defect(Implausible, field, "%s is implausible", t.In(shanghai).Format(time.DateTime))
	}
	return t, repairs, nil
}

// ParseDate reads a date-only field (birth, join or activity date): the
// layouts 2006-01-02, 2006/1/2, 2006.1.2, 2006年1月2日 and 20060102, or a
// full timestamp in any form ParseValue reads (its China-time date is
// taken, TIME_OF_DAY_DROPPED). The date is returned as midnight UTC, like
// CitizenID.Birth. Dates before DateMin (default 1900-01-01) or after
// tomorrow are IMPLAUSIBLE_TIME.
func (p Times) ParseDate(field string, v any) (time.Time, []Repair, error) {
	d, repairs, err := parseDateValue(field, v)
	if err != nil {
		return time.Time{}, nil, err
	}
	min := p.DateMin
	if min.IsZero() {
		min = earliestBirth
	}
	if d.Before(min) || d.After(today(p.now()).AddDate(0, 0, 1)) {
		return time.Time{}, nil, defect(Implausible, field, "date %s is implausible", d.Format(time.DateOnly))
	}
	return d, repairs, nil
}

func parseDateValue(field string, v any) (time.Time, []Repair, error) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if s == "" {
			return time.Time{}, nil, defect(MissingField, field, "no date")
		}
		if len(s) <= 20 && !(allDigits(s) && len(s) != 8) {
			for _, l := range dateLayouts {
				if d, err := time.Parse(l, s); err == nil {
					return d, nil, nil
				}
			}
		}
		v = s
	}
	t, repairs, err := parseTimeValue(field, v)
	if err != nil {
		return time.Time{}, nil, err
	}
	local := t.In(shanghai)
	y, m, d := local.Date()
	var out []Repair
	for _, r := range repairs {
		if r != ZonelessTime { // a zone-less timestamp is still read as a China date
			out = append(out, r)
		}
	}
	if h, mi, sec := local.Clock(); h != 0 || mi != 0 || sec != 0 || local.Nanosecond() != 0 {
		out = append(out, TimeOfDayDropped)
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), out, nil
}
