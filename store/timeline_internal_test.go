package store

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ywtg/hub/canon"
)

// jsonStep is a timeline step as encoding/json writes it, the reference of
// appendTimeline.
type jsonStep struct {
	At           time.Time `json:"at"`
	Status       string    `json:"status"`
	Tier         string    `json:"tier"`
	SourceStatus string    `json:"source_status"`
	Actor        string    `json:"actor"`
	Note         string    `json:"note"`
}

// stepsOf is tl as steps.
func stepsOf(tl []canon.CaseEvent) []jsonStep {
	s := make([]jsonStep, len(tl))
	for j, e := range tl {
		s[j] = jsonStep{At: e.At, Status: string(e.Status), Tier: string(e.Tier), SourceStatus: e.SourceStatus, Actor: e.Actor, Note: e.Note}
	}
	return s
}

// TestTimelineWrittenAsEncodingJSONWould holds appendTimeline to what
// encoding/json writes of the steps: the same bytes where encoding/json
// adds no HTML escapes, the same values everywhere.
func TestTimelineWrittenAsEncodingJSONWould(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	texts := []string{"", "结案", "已处置完毕，附处置后照片", `引号"与\反斜杠`, "换行\n回车\r制表\t", "控制\x00\x01\x1f\x7f",
		"坏字节\xff\xfe中", "\xe4\xb8", "<b>&amp;</b>", "行\u2028段\u2029", "emoji 🏙️", "𠮷"}
	var tl []canon.CaseEvent
	for i, s := range texts {
		tl = append(tl, canon.CaseEvent{At: time.Date(2025, 10, 19, 11, 45, i, i*1_000_000, cst),
			Status: canon.CaseStatus("CLOSED"), Tier: canon.CaseTier("STREET"), SourceStatus: s, Actor: s + "员", Note: strings.Repeat(s, 2)})
	}
	tl = append(tl, canon.CaseEvent{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	for n := 0; n <= len(tl); n++ {
		want, err := json.Marshal(stepsOf(tl[:n]))
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendTimeline(nil, tl[:n])
		if err != nil {
			t.Fatal(err)
		}
		var a, b []jsonStep
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%d steps: %s is not JSON: %v", n, got, err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) || len(a) != n {
			t.Fatalf("%d steps: %s reads\n%+v\nencoding/json's %s reads\n%+v", n, got, a, want, b)
		}
		if n <= 8 && string(got) != string(want) { // before the HTML and U+2028 texts
			t.Fatalf("%d steps:\n%s\nencoding/json:\n%s", n, got, want)
		}
	}
	if _, err := appendTimeline(nil, []canon.CaseEvent{{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}); err == nil {
		t.Fatal("a step in the year 10000 was written")
	}
}

// BenchmarkTimeline writes a city case's eight-step timeline (the Open311
// history of a closed case) by appendTimeline and, for comparison, by
// encoding/json.
func BenchmarkTimeline(b *testing.B) {
	cst := time.FixedZone("CST", 8*3600)
	steps := [][3]string{{"REPORTED", "上报", ""}, {"ACCEPTED", "受理", "已受理"}, {"FILED", "立案", "予以立案"},
		{"DISPATCHED", "派遣", "已派遣至处置单位"}, {"IN_PROGRESS", "处置", "正在处置"},
		{"RESOLVED", "处置反馈", "已处置完毕，附处置后照片"}, {"VERIFYING", "核查", "核查通过"}, {"CLOSED", "结案", "结案"}}
	tl := make([]canon.CaseEvent, len(steps))
	for i, s := range steps {
		tl[i] = canon.CaseEvent{At: time.Date(2025, 10, 19, 11+i, 45, 48, 0, cst), Status: canon.CaseStatus(s[0]),
			Tier: "STREET", SourceStatus: s[1], Actor: "孔湾镇城管中队", Note: s[2]}
	}
	b.Run("append", func(b *testing.B) {
		for b.Loop() {
			if _, err := appendTimeline(make([]byte, 0, 16+192*len(tl)), tl); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(stepsOf(tl)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
