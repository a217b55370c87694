package graph

import (
	"testing"

	"github.com/ywtg/hub/graph/generated"
)

// TestCaseFieldColumnsCoverCase holds the columns table of case lists
// complete: every field of Case says what it reads (a field missing there
// would read every column, silently).
func TestCaseFieldColumnsCoverCase(t *testing.T) {
	def := generated.NewExecutableSchema(generated.Config{}).Schema().Types["Case"]
	if def == nil {
		t.Fatal("no type Case")
	}
	names := map[string]bool{"__typename": true}
	for _, f := range def.Fields {
		names[f.Name] = true
		if _, ok := caseFieldColumns[f.Name]; !ok {
			t.Errorf("Case.%s is not in caseFieldColumns", f.Name)
		}
	}
	for name := range caseFieldColumns {
		if !names[name] {
			t.Errorf("caseFieldColumns names %s, which Case does not have", name)
		}
	}
}
