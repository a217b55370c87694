// Command execpatch adjusts the executor gqlgen generates; go generate runs
// it right after gqlgen (see server.go).
//
// gqlgen's generated code builds a DeferredGroup for every object it
// resolves, rebuilding the object's response path each time, for @defer
// support: a fifth of a large page's allocations, for operations that
// almost never defer anything. execpatch routes those calls through
// newDeferredGroup (graph/generated/deferred.go), which builds the group
// only when the operation may defer. It fails, rather than silently doing
// nothing, when the generated code no longer has the call it rewrites.
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
