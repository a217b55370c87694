// Command execpatch adjusts the executor gqlgen generates; go generate runs
// it right after gqlgen (see server.go).
//
// gqlgen's generated code pays for @defer support in every object it
// resolves, for operations that almost never defer anything: it builds a
// DeferredGroup, rebuilding the object's response path, and writes the
// object through a FieldSet that keeps a map of the names written (to skip
// a deferred field's second entry). Together that is a quarter of the
// allocations and of the bytes of a page of a thousand cases with nested
// objects (BenchmarkLargeQuery in graph, which runs both paths in one
// binary; TestExecutorMatchesUpstream requires the same bytes from both
// over a corpus of queries). execpatch routes both through
// graph/generated/deferred.go: newDeferredGroup builds the group only when
// the operation may defer, and objectValue writes the fields of an object
// of an operation that cannot defer in order, without the map. It fails,
// rather than silently doing nothing, when the generated code no longer
// has what it rewrites.
//
//	go run ./graph/internal/execpatch graph/generated/generated.go
package main

import (
	"bytes"
	"fmt"
	"os"
)

// rewrites are the calls replaced, each with its replacement.
var rewrites = []struct{ from, to string }{
	{"deferred := graphql.NewDeferredGroup(ctx)", "deferred := newDeferredGroup(ctx)"},
	{"\t\tec.ProcessDeferredGroup(deferred)\n\t}\n\n\treturn out\n}", "\t\tec.ProcessDeferredGroup(deferred)\n\t}\n\n\treturn objectValue(fields, out, &deferred)\n}"},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: execpatch path/to/generated.go")
		os.Exit(2)
	}
	if err := patch(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "execpatch:", err)
		os.Exit(1)
	}
}

func patch(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, r := range rewrites {
		n := bytes.Count(src, []byte(r.from))
		if n == 0 && !bytes.Contains(src, []byte(r.to)) {
			return fmt.Errorf("%s: no %q to rewrite: gqlgen's generated code changed; review graph/generated/deferred.go", path, r.from)
		}
		src = bytes.ReplaceAll(src, []byte(r.from), []byte(r.to))
	}
	return os.WriteFile(path, src, 0o644)
}
