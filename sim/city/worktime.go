package city

import "time"

// Working time of the city's offices: 08:30–12:00 and 14:00–18:00, Monday
// to Friday, China Standard Time. Public holidays and 调休 working
// weekends are not modelled.
var workSpans = [2][2]int{{8*60 + 30, 12 * 60}, {14 * 60, 18 * 60}} // minutes of the day

// AddWorkHours returns the instant h working hours after t.
func AddWorkHours(t time.Time, h float64) time.Time {
	t = t.In(CST)
	rem := time.Duration(h * float64(time.Hour))
	for {
		y, m, d := t.Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, CST)
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
