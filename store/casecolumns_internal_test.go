package store

import (
	"strings"
	"testing"
)

// TestCaseColumnTable holds the column table of pruned case lists equal to
// caseColumns, the list every whole read of a case uses, and every group
// read by some column; a list's scanner holds a destination for each slot
// a row reads into.
func TestCaseColumnTable(t *testing.T) {
	var sqls []string
	var groups CaseColumns
	for _, c := range caseColumnTable {
		sqls = append(sqls, c.sql)
		groups |= c.group
	}
	if got, want := strings.Join(sqls, ", "), strings.Join(strings.Fields(caseColumns), " "); got != want {
		t.Fatalf("column table\n%s\nis not caseColumns\n%s", got, want)
	}
	if groups != AllCaseColumns {
		t.Fatalf("groups read %b, want %b", groups, AllCaseColumns)
	}
	all, _ := caseSelect(AllCaseColumns)
	pruned, _ := caseSelect(AllCaseColumns &^ CaseColTitle)
	if all != caseColumns || strings.Contains(pruned, "c.title") || !strings.Contains(pruned, "c.description") {
		t.Fatalf("caseSelect: %q, %q", all, pruned)
	}
	// A scanner holds the destinations of every slot of a row.
	_, sc := caseSelect(AllCaseColumns)
	if sc.width[floatSlot] > len(sc.fl) || sc.width[intSlot] > len(sc.in) || sc.width[timeSlot] > len(sc.tm) {
		t.Fatalf("slots a row %v; the scanner holds %d, %d, %d", sc.width, len(sc.fl), len(sc.in), len(sc.tm))
	}
}
