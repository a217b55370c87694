package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"github.com/ywtg/hub/store"
)

// selectedFields returns the names of the fields selected under the current
// field along a path of child fields, e.g. ("edges", "node") under a
// connection. types lists the type conditions that apply at each step (the
// last one includes the object type and its interfaces).
func selectedFields(ctx context.Context, path []string, types [][]string) map[string]bool {
	opCtx := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, types[0])
	for i, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name == name {
				next = append(next, graphql.CollectFields(opCtx, f.Selections, types[i+1])...)
			}
		}
		fields = next
	}
	out := make(map[string]bool, len(fields))
	for _, f := range fields {
		out[f.Name] = true
	}
	return out
}

// prefetchCases queues, from one goroutine, the loads that the selected
// relations of a page of cases will make. gqlgen resolves list items
// concurrently, so without this the loads of a wide page would trickle in
// over more than one loader window and split into several batches; queued
// here they form one batch per relation, whatever the page size. The child
// resolvers then find their values in the loaders' caches.
func (r *Resolver) prefetchCases(ctx context.Context, cases []*store.Case, connection bool) {
	if len(cases) == 0 {
		return
	}
	path, types := []string{}, [][]string{{"Case", "Node"}}
	if connection {
		path, types = []string{"edges", "node"}, [][]string{{"CaseConnection"}, {"CaseEdge"}, {"Case", "Node"}}
	}
	primeCaseRelations(ctx, r.loaders(ctx), cases, selectedFields(ctx, path, types))
}

// caseSelection names the relations of Case selected under the current
// field, in a stable string form usable as part of a loader key.
func caseSelection(ctx context.Context) string {
	sel := selectedFields(ctx, []string{"edges", "node"}, [][]string{{"CaseConnection"}, {"CaseEdge"}, {"Case", "Node"}})
	var out []string
	for _, f := range []string{"grid", "category", "source", "provenance", "timeline"} {
		if sel[f] {
			out = append(out, f)
		}
	}
	return strings.Join(out, ",")
}

// primeCaseRelations queues the selected relations of many cases.
func primeCaseRelations(ctx context.Context, l *Loaders, cases []*store.Case, sel map[string]bool) {
	var grids, ids []int64
	var cats, sources []string
	for _, c := range cases {
		if c.GridID != nil {
			grids = append(grids, *c.GridID)
		}
		if c.CategoryCode != nil {
			cats = append(cats, *c.CategoryCode)
		}
		sources = append(sources, c.Provenance.Source)
		ids = append(ids, c.ID)
	}
	if sel["grid"] {
		queue(ctx, l.Region, grids)
	}
	if sel["category"] {
		queue(ctx, l.Category, cats)
	}
	if sel["source"] || sel["provenance"] {
		queue(ctx, l.Source, sources)
	}
	if sel["timeline"] {
		queue(ctx, l.Timeline, ids)
	}
}

// queue puts keys into a loader's current batch without waiting for them.
// (Loader.LoadMany would start a goroutine per key, which is exactly the
// trickle this avoids.)
func queue[K comparable, V any](ctx context.Context, l *dataloader.Loader[K, V], keys []K) []dataloader.Thunk[V] {
	thunks := make([]dataloader.Thunk[V], len(keys))
	for i, k := range keys {
		thunks[i] = l.Load(ctx, k)
	}
	return thunks
}

// loadAll loads keys as one batch and waits for all of them.
func loadAll[K comparable, V any](ctx context.Context, l *dataloader.Loader[K, V], keys []K) ([]V, error) {
	thunks := queue(ctx, l, keys)
	out := make([]V, len(keys))
	for i, th := range thunks {
		v, err := th()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
