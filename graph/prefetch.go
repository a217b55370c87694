package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ywtg/hub/graph/generated"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
)

// typeConditions are the type conditions a selection on each object type
// matches: the type and the interfaces it implements (what the generated
// executor's fooImplementors lists hold), read once from the schema. The
// table is immutable.
var typeConditions = sync.OnceValue(func() map[string][]string {
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	out := make(map[string][]string, len(s.Types))
	for name, def := range s.Types {
		if def.Kind != ast.Object {
			continue
		}
		conds := append([]string{name}, def.Interfaces...)
		out[name] = conds
	}
	return out
})

// selections are the fields selected under field, collected as the
// executor collects them for the field's type, then down a path of child
// fields (e.g. "edges", "node" under a connection), each step with the
// type conditions of its own type.
func selections(opCtx *graphql.OperationContext, field graphql.CollectedField, path ...string) []graphql.CollectedField {
	fields := collect(opCtx, field)
	for _, name := range path {
		var next []graphql.CollectedField
		for _, f := range fields {
			if f.Name == name {
				next = append(next, collect(opCtx, f)...)
			}
		}
		fields = next
	}
	return fields
}

// collect collects the fields selected directly under f.
func collect(opCtx *graphql.OperationContext, f graphql.CollectedField) []graphql.CollectedField {
	if f.Field == nil || f.Definition == nil || len(f.Selections) == 0 {
		return nil
	}
	return graphql.CollectFields(opCtx, f.Selections, typeConditions()[f.Definition.Type.Name()])
}

// selectedFields names the fields selected under the current field along
// a path of child fields.
func selectedFields(ctx context.Context, path ...string) map[string]bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return nil
	}
	fields := selections(graphql.GetOperationContext(ctx), fc.Field, path...)
	out := make(map[string]bool, len(fields))
	for _, f := range fields {
		out[f.Name] = true
	}
	return out
}

// caseRelations are the relations of Case selected under a case
// connection, which the loaders fetch for a whole page at once; a part of
// the loader key of Region.cases.
type caseRelations struct {
	Grid, GridParent, Category, Source, Timeline bool
}

// caseFieldColumns are the columns of a case each field of Case reads
// (the ID and the sort key are always read). A field missing here reads
// every column, so a field added to the schema is served right before it
// is listed (a test holds the table complete).
var caseFieldColumns = map[string]store.CaseColumns{
	"__typename":        0,
	"id":                0,
	"source":            store.CaseColSource,
	"sourceId":          store.CaseColSourceID,
	"kind":              store.CaseColKind,
	"category":          store.CaseColCategory,
	"sourceCategory":    store.CaseColSourceCategory | store.CaseColKind,
	"title":             store.CaseColTitle,
	"description":       store.CaseColDescription,
	"status":            store.CaseColStatus,
	"tier":              store.CaseColTier,
	"grid":              store.CaseColGrid,
	"location":          store.CaseColLocation,
	"address":           store.CaseColAddress,
	"standardAddress":   store.CaseColAddress,
	"addressComponents": store.CaseColAddress,
	"building":          0, // by the case's ID
	"reportedAt":        store.CaseColReportedAt,
	"updatedAt":         store.CaseColUpdatedAt,
	"dueAt":             store.CaseColDueAt,
	"closedAt":          store.CaseColClosedAt,
	"overdue":           store.CaseColOverdue,
	"timeline":          0, // by the case's ID
	"incident":          store.CaseColIncident,
	"reporter":          store.CaseColReporter,
	"assignee":          store.CaseColAssignee,
	"provenance":        store.CaseColSource | store.CaseColSourceID | store.CaseColProvenance,
}

// caseSelectionOf reads what is selected under edges.node of a case
// connection field: the relations the loaders fetch for the whole page,
// and the columns of the cases the fields read.
func caseSelectionOf(opCtx *graphql.OperationContext, conn graphql.CollectedField) (caseRelations, store.CaseColumns) {
	var sel caseRelations
	cols := store.CaseColID
	for _, f := range selections(opCtx, conn, "edges", "node") {
		if c, ok := caseFieldColumns[f.Name]; ok {
			cols |= c
		} else {
			cols = store.AllCaseColumns
		}
		switch f.Name {
		case "grid":
			sel.Grid = true
			for _, g := range collect(opCtx, f) {
				if g.Name == "parent" {
					sel.GridParent = true
				}
			}
		case "category":
			sel.Category = true
		case "source", "provenance":
			sel.Source = true
		case "timeline":
			sel.Timeline = true
		}
	}
	return sel, cols
}

// prefetchCases loads, in one statement per relation and before the
// child resolvers ask, the selected relations (sel, from caseSelectionOf)
// of a page of cases of a case connection field, and primes the request's
// loaders with them: the grids' parents are then in the cache when the
// grids' own resolvers, one per grid, ask for them.
func (r *Resolver) prefetchCases(ctx context.Context, cases []*store.Case, sel caseRelations) error {
	if len(cases) == 0 {
		return nil
	}
	return primeCaseRelations(ctx, r.Store, r.loaders(ctx), cases, sel)
}

// primeCaseRelations fetches the selected relations of many cases and
// primes the loaders.
func primeCaseRelations(ctx context.Context, st *store.Store, l *Loaders, cases []*store.Case, sel caseRelations) error {
	if sel.Grid {
		grids := make([]int64, 0, len(cases))
		for _, c := range cases {
			if c.GridID != nil {
				grids = append(grids, *c.GridID)
			}
		}
		if err := prime(ctx, &l.Region, l.regions.ByID, grids); err != nil {
			return err
		}
		if sel.GridParent {
			// The grids are in the cache now; their parents follow in one more batch.
			var parents []int64
			for _, id := range grids {
				if g, err := l.Region.Get(ctx, id); err == nil && g != nil && g.ParentID != nil {
					parents = append(parents, *g.ParentID)
				}
			}
			if err := prime(ctx, &l.Region, l.regions.ByID, parents); err != nil {
				return err
			}
		}
	}
	if sel.Source {
		sources := make([]string, len(cases))
		for i, c := range cases {
			sources[i] = c.Provenance.Source
		}
		if err := prime(ctx, &l.Source, st.SourcesByName, sources); err != nil {
			return err
		}
	}
	if sel.Timeline {
		ids := make([]int64, len(cases))
		for i, c := range cases {
			ids[i] = c.ID
		}
		if err := prime(ctx, &l.Timeline, st.CaseTimelines, ids); err != nil {
			return err
		}
	}
	return nil
}

// prime fetches the distinct keys with the store's batch query and puts the
// results in the loader's cache.
func prime[K comparable, V any](ctx context.Context, l *lazyLoader[K, V], batch func(context.Context, []K) ([]V, error), keys []K) error {
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

// loadAll loads keys as one batch and waits for all of them.
func loadAll[K comparable, V any](ctx context.Context, l *lazyLoader[K, V], keys []K) ([]V, error) {
	return loadEach(ctx, l, len(keys), func(i int) (K, bool) { return keys[i], true })
}

// loadEach loads the keys of n parents (key: the i-th parent's, and whether
// it has one; a parent without has the zero value) and waits for all of
// them: primed keys at once, the others put into the loader's current
// batch before any is waited for (Loader.LoadMany would start a goroutine
// per key: the trickle that splits batches).
func loadEach[K comparable, V any](ctx context.Context, l *lazyLoader[K, V], n int, key func(i int) (K, bool)) ([]V, error) {
	out := make([]V, n)
	var thunks []dataloader.Thunk[V]
	for i := range n {
		k, ok := key(i)
		if !ok {
			continue
		}
		if v, ok := l.primedValue(k); ok {
			out[i] = v
			continue
		}
		if thunks == nil {
			thunks = make([]dataloader.Thunk[V], n)
		}
		thunks[i] = l.loader().Load(ctx, k)
	}
	for i, th := range thunks {
		if th == nil {
			continue
		}
		v, err := th()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// prefetchRegions loads, up front, the selected per-region relations of a
// page of regions, the current field's edges.node: gqlgen resolves the
// regions' fields concurrently, and left to the loaders a wide page's
// loads trickle in over more than one loader window (splitting batches,
// and every level waits out the window). The keys are built by the same
// functions as the resolvers' (regionCasesQuery, regionStatsQuery) from
// the arguments gqlgen parses, so the resolvers find their values primed.
func (r *Resolver) prefetchRegions(ctx context.Context, regions []*store.Region) error {
	return r.prefetchRegionsAt(ctx, regions, "edges", "node")
}

// prefetchRegionsAt is prefetchRegions for regions selected under the
// current field along path: a page's edges.node, or none for a field
// that returns one region (Query.region), whose relations would otherwise
// each wait out a loader window for siblings it does not have.
func (r *Resolver) prefetchRegionsAt(ctx context.Context, regions []*store.Region, path ...string) error {
	if len(regions) == 0 {
		return nil
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return nil
	}
	opCtx := graphql.GetOperationContext(ctx)
	fields := selections(opCtx, fc.Field, path...)
	l := r.loaders(ctx)
	ids := make([]int64, 0, len(regions))
	var parents []int64
	for _, reg := range regions {
		ids = append(ids, reg.ID)
		if reg.ParentID != nil {
			parents = append(parents, *reg.ParentID)
		}
	}
	statsDone, casesDone, childrenDone := map[string]bool{}, map[regionCasesKey]bool{}, map[string]bool{}
	var stats, parent bool
	for _, f := range fields {
		switch f.Name {
		case "stats":
			stats = true
		case "parent":
			parent = true
		case "children":
			r.prefetchRegionChildren(ctx, f, ids, childrenDone)
		case "caseStats":
			r.prefetchRegionStats(ctx, opCtx, f, regions, statsDone)
		case "cases":
			r.prefetchRegionCases(ctx, opCtx, f, regions, casesDone)
		}
	}
	if stats {
		if err := prime(ctx, &l.RegionStats, r.Store.RegionStatsByID, ids); err != nil {
			return err
		}
	}
	if parent {
		if err := prime(ctx, &l.Region, l.regions.ByID, parents); err != nil {
			return err
		}
	}
	return nil
}

// prefetchRegionChildren runs a Region.children field for every region of
// a page in one statement (the loader's batch, called here) and primes the
// loader under the resolvers' keys: left to the regions' own resolvers,
// a loaded machine split a street's communities over two loader windows,
// and every level below over two statements. The batch runs in a field
// context of the field itself, whose selection its own prefetch reads.
// Arguments gqlgen refuses, or a failing statement, leave the field to its
// resolvers, which report the error.
func (r *Resolver) prefetchRegionChildren(ctx context.Context, f graphql.CollectedField, ids []int64, done map[string]bool) {
	first, after, err := generated.RegionChildrenArgs(ctx, f)
	if err != nil {
		return
	}
	pa, err := model.PageArgs(first, after)
	if err != nil {
		return
	}
	args, err := json.Marshal(pa)
	if err != nil || done[string(args)] {
		return
	}
	done[string(args)] = true
	keys := make([]regionChildrenKey, len(ids))
	for i, id := range ids {
		keys[i] = regionChildrenKey{Parent: id, Args: string(args)}
	}
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Region", Field: f, IsMethod: true, IsResolver: true})
	pages, err := regionChildrenBatch(r.loaders(ctx).regions, r.prefetchRegions)(ctx, keys)
	if err != nil {
		return
	}
	l := r.loaders(ctx)
	for i, k := range keys {
		l.RegionChildren.Prime(ctx, k, pages[i])
	}
}

// prefetchRegionStats runs one Region.caseStats field for a page of
// regions in one statement and primes the loader under the resolvers'
// keys. Arguments gqlgen refuses, or a failing statement, leave the field
// to its resolvers, which report the error.
func (r *Resolver) prefetchRegionStats(ctx context.Context, opCtx *graphql.OperationContext, f graphql.CollectedField, regions []*store.Region, done map[string]bool) {
	filter, groupBy, err := generated.RegionCaseStatsArgs(ctx, f)
	if err != nil {
		return
	}
	key, q, err := regionStatsQuery(opCtx, f, 0, filter, groupBy)
	if err != nil || done[key.Args] {
		return
	}
	done[key.Args] = true
	buckets, err := r.Store.CaseStatsInRegions(ctx, regions, q.Filter, q.Dims, q.Measures)
	if err != nil {
		return
	}
	l := r.loaders(ctx)
	for i, reg := range regions {
		key.Region = reg.ID
		l.RegionCaseStats.Prime(ctx, key, buckets[i])
	}
}

// prefetchRegionCases runs one Region.cases field for a page of regions in
// one statement (with the selected relations of all their cases) and
// primes the loader with the pages under the resolvers' keys, as
// prefetchRegionStats does.
func (r *Resolver) prefetchRegionCases(ctx context.Context, opCtx *graphql.OperationContext, f graphql.CollectedField, regions []*store.Region, done map[regionCasesKey]bool) {
	filter, orderBy, first, after, err := generated.RegionCasesArgs(ctx, f)
	if err != nil {
		return
	}
	l := r.loaders(ctx)
	key, q, err := regionCasesQueryOf(l, opCtx, f, 0, filter, orderBy, first, after)
	if err != nil || done[key] {
		return
	}
	done[key] = true
	pages, err := regionCases(ctx, r.Store, l, regions, q, key.Sel)
	if err != nil {
		return
	}
	for i, reg := range regions {
		key.Region = reg.ID
		l.RegionCases.Prime(ctx, key, pages[i])
	}
}

// casesQueryField names a Region.cases field of an operation with its
// selection (the collected one, merged from the fragments that select it:
// one field of a fragment used in two places can have two), for the
// request's memo of regionCasesQuery.
type casesQueryField struct {
	field *ast.Field
	sel   *ast.Selection
	n     int
}

// casesQuery is a memoised regionCasesQuery, without the region.
type casesQuery struct {
	key regionCasesKey
	q   store.CaseQuery
}

// regionCasesQueryOf is regionCasesQuery, built once per field and
// selection of the request's operation (in l), as every region of a page
// asks with the same field, arguments and selection. The query returned is
// shared: its filter is not to be changed in place.
func regionCasesQueryOf(l *Loaders, opCtx *graphql.OperationContext, field graphql.CollectedField, region int64, filter *model.CaseFilter, orderBy *model.CaseOrder, first *int, after *string) (regionCasesKey, store.CaseQuery, error) {
	if field.Field == nil || len(field.Selections) == 0 {
		return regionCasesQuery(opCtx, field, region, filter, orderBy, first, after)
	}
	id := casesQueryField{field.Field, &field.Selections[0], len(field.Selections)}
	if v, ok := l.casesQueries.Load(id); ok {
		m := v.(casesQuery)
		m.key.Region = region
		return m.key, m.q, nil
	}
	key, q, err := regionCasesQuery(opCtx, field, region, filter, orderBy, first, after)
	if err == nil {
		l.casesQueries.Store(id, casesQuery{key, q})
	}
	return key, q, err
}

// regionCasesQuery is the query of a Region.cases field of a region and
// its loader key, from the arguments gqlgen parsed and the field's
// selection. The resolver and the prefetch of a page of regions both build
// the key here, so a primed key is the one the resolver asks for.
func regionCasesQuery(opCtx *graphql.OperationContext, field graphql.CollectedField, region int64, filter *model.CaseFilter, orderBy *model.CaseOrder, first *int, after *string) (regionCasesKey, store.CaseQuery, error) {
	f, err := caseFilter(filter)
	if err != nil {
		return regionCasesKey{}, store.CaseQuery{}, err
	}
	pa, err := model.PageArgs(first, after)
	if err != nil {
		return regionCasesKey{}, store.CaseQuery{}, err
	}
	sel, cols := caseSelectionOf(opCtx, field)
	q := store.CaseQuery{Filter: f, Order: caseOrder(orderBy), Page: pa, Columns: cols}
	args, err := json.Marshal(q)
	if err != nil {
		return regionCasesKey{}, store.CaseQuery{}, fmt.Errorf("region cases key: %w", err)
	}
	return regionCasesKey{Region: region, Args: string(args), Sel: sel}, q, nil
}

// regionStatsQuery is the query of a Region.caseStats field of a region
// and its loader key (see regionCasesQuery), the same however the
// arguments arrived (an empty groupBy is none); only the measures selected
// on the buckets are computed.
func regionStatsQuery(opCtx *graphql.OperationContext, field graphql.CollectedField, region int64, filter *model.CaseFilter, groupBy []store.Dimension) (regionStatsKey, statsArgs, error) {
	f, err := caseFilter(filter)
	if err != nil {
		return regionStatsKey{}, statsArgs{}, err
	}
	if len(groupBy) == 0 {
		groupBy = nil
	}
	sel := map[string]bool{}
	for _, m := range collect(opCtx, field) {
		sel[m.Name] = true
	}
	q := statsArgs{Filter: f, Dims: groupBy, Measures: measuresOf(sel)}
	key, err := json.Marshal(q)
	if err != nil {
		return regionStatsKey{}, statsArgs{}, fmt.Errorf("region statistics key: %w", err)
	}
	return regionStatsKey{Region: region, Args: string(key)}, q, nil
}
