package store

import (
	"strings"
	"testing"
)

// TestCaseColumnTable holds the column table of pruned case lists equal to
// caseColumns, the list every whole read of a case uses, and every group
// read by some column.
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
}
