package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"

	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
)

// selectedFields returns the names of the fields selected under the current
// field along a path of child fields, e.g. ("edges", "node") under a
// connection. types lists the type conditions that apply at each step (the
// last one includes the object type and its interfaces).
func selectedFields(ctx context.Context, path []string, types [][]string) map[string]bool {
	fields := collectedAt(graphql.GetOperationContext(ctx), graphql.CollectFieldsCtx(ctx, types[0]), path, types)
	out := make(map[string]bool, len(fields))
	for _, f := range fields {
		out[f.Name] = true
	}
	return out
}

// collectedAt follows a path of child fields down from fields, collected
// with the type conditions of each step.
func collectedAt(opCtx *graphql.OperationContext, fields []graphql.CollectedField, path []string, types [][]string) []graphql.CollectedField {
	for i, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name == name {
				next = append(next, graphql.CollectFields(opCtx, f.Selections, types[i+1])...)
			}
		}
		fields = next
	}
	return fields
}

// prefetchCases loads, in one statement per relation and before the
// child resolvers ask, the selected relations of a page of cases, and primes
// the request's loaders with them. gqlgen resolves list items concurrently;
// left to the loaders, a wide page's loads would trickle in over more than
// one loader window (splitting batches) and every level would wait out the
// window. Fetched up front, the children find their values in the cache.
func (r *Resolver) prefetchCases(ctx context.Context, cases []*store.Case, connection bool) error {
	if len(cases) == 0 {
		return nil
	}
	path, types := []string{}, [][]string{{"Case", "Node"}}
	if connection {
		path, types = []string{"edges", "node"}, [][]string{{"CaseConnection"}, {"CaseEdge"}, {"Case", "Node"}}
	}
	sel := selectedFields(ctx, path, types)
	if sel["grid"] && selectedFields(ctx, append(path, "grid"), append(types, []string{"Region", "Node"}))["parent"] {
		sel["grid.parent"] = true
	}
	return primeCaseRelations(ctx, r.Store, r.loaders(ctx), cases, sel)
}

// caseSelection names the relations of Case selected under the current
// field (a case connection), in a stable string form usable as part of a
// loader key.
func caseSelection(ctx context.Context) string {
	return caseSelectionOf(graphql.GetOperationContext(ctx), graphql.CollectFieldsCtx(ctx, []string{"CaseConnection"}))
}

// caseSelectionOf is caseSelection for the collected fields of a case
// connection.
func caseSelectionOf(opCtx *graphql.OperationContext, conn []graphql.CollectedField) string {
	path, types := []string{"edges", "node"}, [][]string{{"CaseConnection"}, {"CaseEdge"}, {"Case", "Node"}}
	sel := map[string]bool{}
	for _, f := range collectedAt(opCtx, conn, path, types) {
		sel[f.Name] = true
		if f.Name == "grid" {
			for _, g := range graphql.CollectFields(opCtx, f.Selections, []string{"Region", "Node"}) {
				if g.Name == "parent" {
					sel["grid.parent"] = true
				}
			}
		}
	}
	var out []string
	for _, f := range []string{"grid", "grid.parent", "category", "source", "provenance", "timeline"} {
		if sel[f] {
			out = append(out, f)
		}
	}
	return strings.Join(out, ",")
}

// primeCaseRelations fetches the selected relations of many cases and
// primes the loaders.
func primeCaseRelations(ctx context.Context, st *store.Store, l *Loaders, cases []*store.Case, sel map[string]bool) error {
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
		if err := prime(ctx, l.Region, st.RegionsByID, grids); err != nil {
			return err
		}
		if sel["grid.parent"] {
			// The grids are in the cache now; their parents follow in one more batch.
			var parents []int64
			for _, id := range grids {
				if g, err := l.Region.Load(ctx, id)(); err == nil && g != nil && g.ParentID != nil {
					parents = append(parents, *g.ParentID)
				}
			}
			if err := prime(ctx, l.Region, st.RegionsByID, parents); err != nil {
				return err
			}
		}
	}
	if sel["category"] {
		if err := prime(ctx, l.Category, st.CategoriesByCode, cats); err != nil {
			return err
		}
	}
	if sel["source"] || sel["provenance"] {
		if err := prime(ctx, l.Source, st.SourcesByName, sources); err != nil {
			return err
		}
	}
	if sel["timeline"] {
		if err := prime(ctx, l.Timeline, st.CaseTimelines, ids); err != nil {
			return err
		}
	}
	return nil
}

// prime fetches the distinct keys with the store's batch query and puts the
// results in the loader's cache.
func prime[K comparable, V any](ctx context.Context, l *dataloader.Loader[K, V], batch func(context.Context, []K) ([]V, error), keys []K) error {
	seen := make(map[K]bool, len(keys))
	uniq := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, k)
		}
	}
	if len(uniq) == 0 {
		return nil
	}
	vals, err := batch(ctx, uniq)
	if err != nil {
		return err
	}
	for i, k := range uniq {
		l.Prime(ctx, k, vals[i])
	}
	return nil
}

// queue puts keys into a loader's current batch without waiting for them.
// (Loader.LoadMany would start a goroutine per key: the trickle that splits
// batches.)
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

// prefetchRegions loads, up front, the selected per-region relations of a
// page of regions (see prefetchCases for why).
func (r *Resolver) prefetchRegions(ctx context.Context, regions []*store.Region) error {
	if len(regions) == 0 {
		return nil
	}
	sel := selectedFields(ctx, []string{"edges", "node"}, [][]string{{"RegionConnection"}, {"RegionEdge"}, {"Region", "Node"}})
	l := r.loaders(ctx)
	ids := make([]int64, 0, len(regions))
	var parents []int64
	for _, reg := range regions {
		ids = append(ids, reg.ID)
		if reg.ParentID != nil {
			parents = append(parents, *reg.ParentID)
		}
	}
	if sel["stats"] {
		if err := prime(ctx, l.RegionStats, r.Store.RegionStatsByID, ids); err != nil {
			return err
		}
	}
	if sel["parent"] {
		if err := prime(ctx, l.Region, r.Store.RegionsByID, parents); err != nil {
			return err
		}
	}
	if sel["caseStats"] {
		r.prefetchRegionStats(ctx, ids)
	}
	if sel["cases"] {
		return r.prefetchRegionCases(ctx, ids)
	}
	return nil
}

// prefetchRegionStats runs Region.caseStats for a page of regions up front,
// one statement per caseStats field of the selection, and primes the loader
// under the keys the resolvers will ask for (as prefetchRegionCases does for
// cases).
func (r *Resolver) prefetchRegionStats(ctx context.Context, ids []int64) {
	opCtx := graphql.GetOperationContext(ctx)
	path, types := []string{"edges", "node"}, [][]string{{"RegionConnection"}, {"RegionEdge"}, {"Region", "Node"}}
	l := r.loaders(ctx)
	done := map[string]bool{}
	for _, f := range collectedAt(opCtx, graphql.CollectFieldsCtx(ctx, types[0]), path, types) {
		if f.Name != "caseStats" {
			continue
		}
		q, args, ok := statsArgsOf(opCtx, f)
		if !ok || done[args] {
			continue
		}
		done[args] = true
		buckets, err := r.Store.CaseStatsInRegions(ctx, ids, q.Filter, q.Dims, q.Measures)
		if err != nil {
			continue // the resolvers ask again and report it
		}
		for i, id := range ids {
			l.RegionCaseStats.Prime(ctx, regionStatsKey{Region: id, Args: args}, buckets[i])
		}
	}
}

// statsArgsOf reads the arguments and measures of a caseStats field as
// the resolver does.
func statsArgsOf(opCtx *graphql.OperationContext, f graphql.CollectedField) (statsArgs, string, bool) {
	b, err := json.Marshal(f.ArgumentMap(opCtx.Variables))
	if err != nil {
		return statsArgs{}, "", false
	}
	var args struct {
		Filter  *model.CaseFilter `json:"filter"`
		GroupBy []store.Dimension `json:"groupBy"`
	}
	if err := json.Unmarshal(b, &args); err != nil {
		return statsArgs{}, "", false
	}
	sel := map[string]bool{}
	for _, m := range graphql.CollectFields(opCtx, f.Selections, []string{"CaseBucket"}) {
		sel[m.Name] = true
	}
	q, key, err := regionStatsArgs(args.Filter, args.GroupBy, measuresOf(sel))
	return q, key, err == nil
}

// regionStatsArgs is the query of a Region.caseStats field and its loader
// key, the same however the arguments arrived (an empty groupBy is none).
func regionStatsArgs(filter *model.CaseFilter, groupBy []store.Dimension, m store.Measures) (statsArgs, string, error) {
	f, err := caseFilter(filter)
	if err != nil {
		return statsArgs{}, "", err
	}
	if len(groupBy) == 0 {
		groupBy = nil
	}
	q := statsArgs{Filter: f, Dims: groupBy, Measures: m}
	key, err := json.Marshal(q)
	if err != nil {
		return statsArgs{}, "", fmt.Errorf("region statistics key: %w", err)
	}
	return q, string(key), nil
}

// prefetchRegionCases runs Region.cases for a page of regions up front, one
// statement per cases field of the selection, and primes the loader with
// the pages under the keys the resolvers will ask for. Left to the
// resolvers, a hundred regions' loads trickle into the loader over more
// than one window and split the batch. An argument this cannot read the way
// the resolver does leaves that field to the resolver (which then reports
// any error): a key either matches exactly or is not primed.
func (r *Resolver) prefetchRegionCases(ctx context.Context, ids []int64) error {
	opCtx := graphql.GetOperationContext(ctx)
	path, types := []string{"edges", "node"}, [][]string{{"RegionConnection"}, {"RegionEdge"}, {"Region", "Node"}}
	l := r.loaders(ctx)
	done := map[regionCasesKey]bool{}
	for _, f := range collectedAt(opCtx, graphql.CollectFieldsCtx(ctx, types[0]), path, types) {
		if f.Name != "cases" {
			continue
		}
		q, ok := caseQueryOf(f.ArgumentMap(opCtx.Variables))
		if !ok {
			continue
		}
		args, err := json.Marshal(q)
		if err != nil {
			continue
		}
		group := regionCasesKey{Args: string(args), Sel: caseSelectionOf(opCtx, graphql.CollectFields(opCtx, f.Selections, []string{"CaseConnection"}))}
		if done[group] {
			continue
		}
		done[group] = true
		pages, err := regionCases(ctx, r.Store, l, ids, q, group.Sel)
		if err != nil {
			continue // the resolvers ask again and report it
		}
		for i, id := range ids {
			key := group
			key.Region = id
			l.RegionCases.Prime(ctx, key, pages[i])
		}
	}
	return nil
}

// caseQueryOf reads the arguments of a cases field as the resolver does.
func caseQueryOf(raw map[string]any) (store.CaseQuery, bool) {
	b, err := json.Marshal(raw)
	if err != nil {
		return store.CaseQuery{}, false
	}
	var args struct {
		Filter  *model.CaseFilter `json:"filter"`
		OrderBy *model.CaseOrder  `json:"orderBy"`
		First   *int              `json:"first"`
		After   *string           `json:"after"`
	}
	if err := json.Unmarshal(b, &args); err != nil {
		return store.CaseQuery{}, false
	}
	if args.OrderBy != nil && (!args.OrderBy.Field.IsValid() || !args.OrderBy.Direction.IsValid()) {
		return store.CaseQuery{}, false
	}
	f, err := caseFilter(args.Filter)
	if err != nil {
		return store.CaseQuery{}, false
	}
	return store.CaseQuery{Filter: f, Order: caseOrder(args.OrderBy), Page: store.PageArgs{First: args.First, After: args.After}}, true
}
