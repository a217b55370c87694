package graph_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/graph/graphtest"
	"github.com/ywtg/hub/store/storetest"
)

// largeCasesQuery reads 1,000 cases with their nested objects (two pages
// of 500 in opposite orders).
const largeCasesQuery = `query {
  a: cases(first: 500, orderBy: {field: REPORTED_AT, direction: ASC}) { ...page }
  b: cases(first: 500, orderBy: {field: REPORTED_AT, direction: DESC}) { ...page }
}
fragment page on CaseConnection {
  pageInfo { hasNextPage endCursor }
  edges { cursor node { id sourceId title status tier kind reportedAt dueAt overdue
    location { lat lng } sourceCategory { code name }
    category { code name } grid { id code name parent { id name } }
    source { name kind } provenance { sourceId fetchedAt source { name } }
    timeline { at status tier actor } } }
}`

// gridCasesQuery has the shape of bench/api's query A (grids, each with a
// page of cases): lists of lists that wait on nothing once the regions'
// page has loaded their cases, so the executor marshals them in place.
const gridCasesQuery = `{ regions(level: GRID, first: 4) { edges { node { code name cases(first: 250) { edges { node {
  id title status reportedAt category { name } location { lat lng } } } } } } } }`

// oneGridQuery has the shape of bench/api's query S: one grid and its
// first 10 cases, what a request costs beyond its rows.
const oneGridQuery = `{ region(code: "420606001001001") { code name cases(first: 10) { edges { node {
  id title status reportedAt category { name } location { lat lng } } } } } }`

// filteredQuery has the shape of bench/api's query C: a page of 50 cases
// with their grids and categories, as a search lists them.
const filteredQuery = `{ cases(first: 50, orderBy: {field: REPORTED_AT, direction: DESC}) { edges { cursor node {
  id sourceId title status dueAt grid { name } category { name } } } pageInfo { hasNextPage endCursor } } }`

// BenchmarkLargeQuery runs a page of 1,000 cases with nested objects
// through the handler. "executor" is the generated executor as shipped;
// "upstream" is the same query with "defer" in a comment, which takes
// gqlgen's own object path (see graph/generated/deferred.go); "grids" and
// "grids-upstream" do the same with gridCasesQuery; "one-grid" is
// oneGridQuery, "filtered" filteredQuery.
func BenchmarkLargeQuery(b *testing.B) {
	st := dbtest.NewStore(b)
	storetest.SeedRegions(b, st)
	storetest.SeedCases(b, st, storetest.MakeCases(1000))
	srv := graphtest.New(b, st)
	for _, bc := range []struct{ name, query string }{
		{"executor", largeCasesQuery},
		{"upstream", largeCasesQuery + "\n# defer"},
		{"grids", gridCasesQuery},
		{"grids-upstream", gridCasesQuery + "\n# defer"},
		{"one-grid", oneGridQuery},
		{"filtered", filteredQuery},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if r := srv.Do(b, bc.query, nil); len(r.Errors) > 0 {
				b.Fatalf("query failed: %+v", r.Errors)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU(b)
			for i := 0; i < b.N; i++ {
				srv.Do(b, bc.query, nil)
			}
			// The time per query waits on PostgreSQL; this process's CPU
			// time per query (the client's included) does not.
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time this process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
