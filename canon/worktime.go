package canon

import (
	"math"
	"time"
)

// ChinaTime is China Standard Time, UTC+8 (Asia/Shanghai has had no
// daylight saving since 1991), the zone of the city's working calendar.
var ChinaTime = time.FixedZone("CST", 8*3600)

// The city's offices work 08:30–12:00 and 14:00–18:00, Monday to Friday,
// China time: 7.5 working hours a day. Public holidays and 调休 working
// weekends are not modelled. Deadlines (处置时限) count working hours on
// this calendar, and handling times are measured on it.
var workSpans = [2][2]int{{8*60 + 30, 12 * 60}, {14 * 60, 18 * 60}} // minutes of the day

// workDayMinutes is the working time of one working day.
const workDayMinutes = 450

// AddWorkHours returns the instant h working hours after t.
func AddWorkHours(t time.Time, h float64) time.Time {
	t = t.In(ChinaTime)
	rem := time.Duration(h * float64(time.Hour))
	for {
		y, m, d := t.Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, ChinaTime)
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			for _, sp := range workSpans {
				start := day.Add(time.Duration(sp[0]) * time.Minute)
				end := day.Add(time.Duration(sp[1]) * time.Minute)
				if !t.Before(end) {
					continue
				}
				if t.Before(start) {
					t = start
				}
				if avail := end.Sub(t); rem <= avail {
					return t.Add(rem)
				} else {
					rem -= avail
					t = end
				}
			}
		}
		t = day.AddDate(0, 0, 1)
	}
}

// WorkMinutes is the working time, in minutes, from the start of Monday
// 1970-01-05 (China time) to t; negative before it. The working time
// between two instants is the difference of their WorkMinutes.
// WorkMinutesSQL computes the same in PostgreSQL.
func WorkMinutes(t time.Time) float64 {
	local := float64(t.Unix())/60 + float64(t.Nanosecond())/6e10 + 8*60 // minutes since 1970-01-01 00:00 China time
	days := math.Floor(local / 1440)
	m := local - days*1440 // minute of the day
	d := days - 4          // days since Monday 1970-01-05
	weeks := math.Floor(d / 7)
	wd := d - weeks*7 // 0 Monday … 6 Sunday
	w := weeks*5*workDayMinutes + math.Min(wd, 5)*workDayMinutes
	if wd < 5 {
		for _, sp := range workSpans {
			w += math.Min(math.Max(m-float64(sp[0]), 0), float64(sp[1]-sp[0]))
		}
	}
	return w
}

// WorkHoursBetween is the working time from a to b in hours (negative when
// b is before a).
func WorkHoursBetween(a, b time.Time) float64 {
	return (WorkMinutes(b) - WorkMinutes(a)) / 60
}

// WorkMinutesSQL is a PostgreSQL expression computing WorkMinutes of the
// timestamptz expression t (double precision; NULL when t is NULL). It is a
// plain expression, no subquery, so that it costs no subplan per row.
func WorkMinutesSQL(t string) string {
	// l: minutes since 1970-01-01 China time; d: days since Monday
	// 1970-01-05; m: minute of the day; r: weekday, 0 for Monday.
	l := "(date_part('epoch', " + t + ") / 60 + 480)"
	d := "(floor(" + l + " / 1440) - 4)"
	m := "(" + l + " - floor(" + l + " / 1440) * 1440)"
	r := "(" + d + " - floor(" + d + " / 7) * 7)"
	return "(floor(" + d + " / 7) * 2250 + least(" + r + ", 5) * 450 + CASE WHEN " + r + " < 5 THEN least(greatest(" + m +
		" - 510, 0), 210) + least(greatest(" + m + " - 840, 0), 240) ELSE 0 END)"
}
