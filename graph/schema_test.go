package graph_test

import (
	"os"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"flag"
	"strings"

	"github.com/ywtg/hub/graph/generated"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestSchemaGolden pins the served schema: any change to the API shows up
// as a diff of testdata/schema.graphql in review.
func TestSchemaGolden(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(schema)
	got := b.String()
	const golden = "testdata/schema.graphql"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./graph -run TestSchemaGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("schema differs from %s; if intended, rerun with -update and review the diff", golden)
	}
}

// TestEveryTypeAndFieldIsDescribed enforces the schema's documentation
// rule: English followed by the Chinese term, on every type, field,
// argument and enum value.
func TestEveryTypeAndFieldIsDescribed(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	hasChinese := func(s string) bool {
		for _, r := range s {
			if r >= 0x4e00 && r <= 0x9fff {
				return true
			}
		}
		return false
	}
	check := func(what, desc string) {
		if strings.TrimSpace(desc) == "" || !hasChinese(desc) || hasChinese(desc[:1]) {
			t.Errorf("%s: description %q must be English followed by the Chinese term", what, desc)
		}
	}
	for name, def := range schema.Types {
		if def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		check(name, def.Description)
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			check(name+"."+f.Name, f.Description)
			for _, a := range f.Arguments {
				check(name+"."+f.Name+"("+a.Name+")", a.Description)
			}
		}
		for _, v := range def.EnumValues {
			check(name+"."+v.Name, v.Description)
		}
	}
	_ = ast.Object
}
