package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/ywtg/hub/store"
)

// DefaultLoaderWait is how long a loader collects keys before it runs its
// batch. gqlgen resolves sibling fields concurrently, so a short window
// suffices; the pages of regions do not depend on it (prefetchRegions).
const DefaultLoaderWait = 2 * time.Millisecond

// Loaders batch every relation of one request into one statement per kind.
// They live for one request only, so their caches never serve stale data
// across requests. Each kind's loader is made at its first use
// (lazyLoader): a request uses a few of them.
type Loaders struct {
	Region           lazyLoader[int64, *store.Region]
	RegionBoundary   lazyLoader[int64, json.RawMessage]
	RegionStats      lazyLoader[int64, *store.RegionStats]
	RegionCases      lazyLoader[regionCasesKey, store.Page[*store.Case]]
	RegionCaseStats  lazyLoader[regionStatsKey, []store.Bucket]
	RegionChildren   lazyLoader[regionChildrenKey, store.Page[*store.Region]]
	Case             lazyLoader[int64, *store.Case]
	Source           lazyLoader[string, *store.Source]
	CategoryMappings lazyLoader[string, []*store.CategoryMapping]
	Timeline         lazyLoader[int64, []store.CaseEvent]
	Incident         lazyLoader[int64, *store.Incident]
	IncidentCases    lazyLoader[int64, []*store.Case]
	Person           lazyLoader[int64, *store.Person]
	PersonRecords    lazyLoader[int64, []*store.PersonRecord]
	PersonMatches    lazyLoader[int64, []*store.PersonMatch]
	Household        lazyLoader[int64, *store.Household]
	GridWorker       lazyLoader[int64, *store.GridWorker]
	GridWorkersOf    lazyLoader[int64, []*store.GridWorker]
	PartyOrg         lazyLoader[int64, *store.PartyOrg]
	PartyMember      lazyLoader[int64, *store.PartyMember]
	MembershipsOf    lazyLoader[int64, []*store.PartyMember]
	DualReports      lazyLoader[int64, []*store.DualReport]
	Activities       lazyLoader[int64, []*store.VolunteerActivity]
	Station          lazyLoader[int64, *store.ServiceStation]
	Building         lazyLoader[int64, *store.Building]
	// The buildings the addresses of members' homes, stations and cases
	// were resolved to (store.BuildingLinksOf), by record ID.
	MemberHome      lazyLoader[int64, *store.BuildingLink]
	StationBuilding lazyLoader[int64, *store.BuildingLink]
	CaseBuilding    lazyLoader[int64, *store.BuildingLink]

	// The queries of the Region.cases fields of the request's operation
	// (regionCasesQueryOf), by field and selection.
	casesQueries sync.Map

	// The region layer, from memory while it is current.
	regions *store.RegionDirectory
	// What the loaders are made with (NewLoaders).
	wait     time.Duration
	prefetch func(context.Context, []*store.Region) error

	// The category table, read once for the request (categories).
	st       *store.Store
	table    *categoryTable
	catsOnce sync.Once
	cats     map[string]*store.Category
	catsErr  error
}

// categories returns the request's category table, read at its first use
// (from table when that is current).
func (l *Loaders) categories(ctx context.Context) (map[string]*store.Category, error) {
	l.catsOnce.Do(func() { l.cats, l.catsErr = l.table.read(ctx, l.st) })
	return l.cats, l.catsErr
}

// NewLoaders builds the loaders of one request; regions answers the
// region reads (nil: a statement each). prefetch, when set, runs
// once per batch of region children with every child of the batch (see
// Resolver.prefetchRegions), so that what the children's own fields load
// is one statement across all parents, however the resolvers are timed.
// wait is the batch window, 0 for DefaultLoaderWait.
func NewLoaders(st *store.Store, regions *store.RegionDirectory, prefetch func(context.Context, []*store.Region) error, wait time.Duration) *Loaders {
	if wait <= 0 {
		wait = DefaultLoaderWait
	}
	if regions == nil {
		regions = st.NewRegionDirectory(nil)
	}
	l := &Loaders{st: st, regions: regions, wait: wait, prefetch: prefetch}
	viaLoaders(&l.Region, l, func(l *Loaders) func(context.Context, []int64) ([]*store.Region, error) { return l.regions.ByID })
	viaStore(&l.RegionBoundary, l, (*store.Store).RegionBoundaries)
	viaStore(&l.RegionStats, l, (*store.Store).RegionStatsByID)
	viaStore(&l.Case, l, (*store.Store).CasesByID)
	viaStore(&l.Source, l, (*store.Store).SourcesByName)
	viaStore(&l.CategoryMappings, l, (*store.Store).CategoryMappings)
	viaStore(&l.Timeline, l, (*store.Store).CaseTimelines)
	viaStore(&l.Incident, l, (*store.Store).IncidentsByID)
	viaStore(&l.IncidentCases, l, (*store.Store).CasesOfIncidents)
	viaStore(&l.Person, l, (*store.Store).PeopleByID)
	viaStore(&l.PersonRecords, l, (*store.Store).PersonRecords)
	viaStore(&l.PersonMatches, l, (*store.Store).PersonMatches)
	viaStore(&l.Household, l, (*store.Store).HouseholdsByID)
	viaStore(&l.GridWorker, l, (*store.Store).GridWorkersByID)
	viaStore(&l.GridWorkersOf, l, (*store.Store).GridWorkersByPerson)
	viaStore(&l.PartyOrg, l, (*store.Store).PartyOrgsByID)
	viaStore(&l.PartyMember, l, (*store.Store).PartyMembersByID)
	viaStore(&l.MembershipsOf, l, (*store.Store).PartyMembersByPerson)
	viaStore(&l.DualReports, l, (*store.Store).DualReportsByMember)
	viaStore(&l.Activities, l, (*store.Store).ActivitiesByMember)
	viaStore(&l.Station, l, (*store.Store).ServiceStationsByID)
	viaStore(&l.Building, l, (*store.Store).BuildingsByID)
	viaLoaders(&l.MemberHome, l, func(l *Loaders) func(context.Context, []int64) ([]*store.BuildingLink, error) {
		return buildingLinks(l.st, store.LinkPartyMember)
	})
	viaLoaders(&l.StationBuilding, l, func(l *Loaders) func(context.Context, []int64) ([]*store.BuildingLink, error) {
		return buildingLinks(l.st, store.LinkServiceStation)
	})
	viaLoaders(&l.CaseBuilding, l, func(l *Loaders) func(context.Context, []int64) ([]*store.BuildingLink, error) {
		return buildingLinks(l.st, store.LinkCase)
	})
	viaLoaders(&l.RegionCases, l, func(l *Loaders) func(context.Context, []regionCasesKey) ([]store.Page[*store.Case], error) {
		return regionCasesBatch(l.st, l)
	})
	viaLoaders(&l.RegionCaseStats, l, func(l *Loaders) func(context.Context, []regionStatsKey) ([][]store.Bucket, error) {
		return regionStatsBatch(l.st, l.regions)
	})
	viaLoaders(&l.RegionChildren, l, func(l *Loaders) func(context.Context, []regionChildrenKey) ([]store.Page[*store.Region], error) {
		return regionChildrenBatch(l.regions, l.prefetch)
	})
	return l
}

// lazyLoader is one kind of a request's loaders, made at its first use:
// making one is several allocations (its cache, its options, its batch
// function), and a request uses a few of the thirty kinds. Its batch is a
// method of the store (viaStore) or made from the request's Loaders
// (viaLoaders); both are static functions, so that setting one up costs
// nothing.
//
// Values primed (a page's relations, loaded with the page) are held
// beside the loader, each with its thunk made once: a Load of one answers
// with that thunk, without the loader's tracing, locking and cache (three
// allocations a Load). Keys not primed go through the loader.
type lazyLoader[K comparable, V any] struct {
	made       atomic.Pointer[dataloader.Loader[K, V]]
	mu         sync.Mutex // guards making the loader, and primed
	primed     map[K]V
	of         *Loaders
	viaStore   func(*store.Store, context.Context, []K) ([]V, error)
	viaLoaders func(*Loaders) func(context.Context, []K) ([]V, error)
}

// viaStore sets a loader up to batch with a method of the store.
func viaStore[K comparable, V any](z *lazyLoader[K, V], l *Loaders, batch func(*store.Store, context.Context, []K) ([]V, error)) {
	z.of, z.viaStore = l, batch
}

// viaLoaders sets a loader up to batch with what batch makes of the
// request's Loaders.
func viaLoaders[K comparable, V any](z *lazyLoader[K, V], l *Loaders, batch func(*Loaders) func(context.Context, []K) ([]V, error)) {
	z.of, z.viaLoaders = l, batch
}

// loader returns the loader, making it at the first call.
func (z *lazyLoader[K, V]) loader() *dataloader.Loader[K, V] {
	if l := z.made.Load(); l != nil {
		return l
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if l := z.made.Load(); l != nil {
		return l
	}
	var batch func(context.Context, []K) ([]V, error)
	if z.viaStore != nil {
		st, m := z.of.st, z.viaStore
		batch = func(ctx context.Context, keys []K) ([]V, error) { return m(st, ctx, keys) }
	} else {
		batch = z.viaLoaders(z.of)
	}
	l := newLoader(z.of.wait, batch)
	z.made.Store(l)
	return l
}

// Load loads a key: a primed value's thunk, else through the loader
// (dataloader.Loader.Load).
func (z *lazyLoader[K, V]) Load(ctx context.Context, key K) dataloader.Thunk[V] {
	if v, ok := z.primedValue(key); ok {
		return func() (V, error) { return v, nil }
	}
	return z.loader().Load(ctx, key)
}

// Get loads a key and waits for it: Load(ctx, key)(), without a thunk for
// a primed value (the elements of a page marshalled one by one each get
// their primed relations this way).
func (z *lazyLoader[K, V]) Get(ctx context.Context, key K) (V, error) {
	if v, ok := z.primedValue(key); ok {
		return v, nil
	}
	return z.loader().Load(ctx, key)()
}

func (z *lazyLoader[K, V]) primedValue(key K) (V, bool) {
	z.mu.Lock()
	v, ok := z.primed[key]
	z.mu.Unlock()
	return v, ok
}

// Prime holds a value for its key, as dataloader.Loader.Prime puts it in
// the loader's cache: a key primed already keeps its value.
func (z *lazyLoader[K, V]) Prime(_ context.Context, key K, value V) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if _, ok := z.primed[key]; ok {
		return
	}
	if z.primed == nil {
		z.primed = make(map[K]V)
	}
	z.primed[key] = value
}

// newLoader adapts a store batch query (results in key order) to a loader.
func newLoader[K comparable, V any](wait time.Duration, batch func(context.Context, []K) ([]V, error)) *dataloader.Loader[K, V] {
	fn := func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		out := make([]*dataloader.Result[V], len(keys))
		vals, err := batch(ctx, keys)
		for i := range keys {
			if err != nil {
				out[i] = &dataloader.Result[V]{Error: err}
				continue
			}
			out[i] = &dataloader.Result[V]{Data: vals[i]}
		}
		return out
	}
	return dataloader.NewBatchedLoader(fn, dataloader.WithWait[K, V](wait), dataloader.WithBatchCapacity[K, V](1000))
}

type loadersKey struct{}

// withLoaders attaches fresh loaders to each request; a websocket's
// operations get theirs from the transport, each its own.
func withLoaders(res *Resolver, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := context.WithValue(r.Context(), loadersKey{}, res.newLoaders())
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// loaders returns the request's loaders, or a fresh set when the request
// did not come through WithLoaders (e.g. a direct executor call).
func (r *Resolver) loaders(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		return l
	}
	return r.newLoaders()
}

// newLoaders builds the loaders of one request, with the shared category
// table.
func (r *Resolver) newLoaders() *Loaders {
	l := NewLoaders(r.Store, r.regions, r.prefetchRegions, r.loaderWait)
	l.table = r.categoryTable
	return l
}

// regionCasesKey asks for one page of cases of one region; Args is the
// canonical encoding of the rest of the query, so keys with equal Args run
// as one statement.
type regionCasesKey struct {
	Region int64
	Args   string
	// Sel are the selected relations of the cases, which the batch
	// fetches for all regions at once.
	Sel caseRelations
}

// regionCasesBatch groups keys by their query and runs one lateral query
// per distinct query: Region.cases on a page of 100 grids is one statement.
func regionCasesBatch(st *store.Store, l *Loaders) func(context.Context, []regionCasesKey) ([]store.Page[*store.Case], error) {
	type group struct {
		args string
		sel  caseRelations
	}
	return func(ctx context.Context, keys []regionCasesKey) ([]store.Page[*store.Case], error) {
		return byGroup(keys, func(k regionCasesKey) (group, int64) { return group{k.Args, k.Sel}, k.Region },
			func(g group, ids []int64) ([]store.Page[*store.Case], error) {
				var q store.CaseQuery
				if err := json.Unmarshal([]byte(g.args), &q); err != nil {
					return nil, err
				}
				regions, err := l.regions.ByID(ctx, ids)
				if err != nil {
					return nil, err
				}
				return regionCases(ctx, st, l, regions, q, g.sel)
			})
	}
}

// byGroup runs a batch of per-region keys as one call per distinct group
// (the rest of the query, in first-seen order), each with the regions of
// its keys, and returns the values in key order.
func byGroup[K any, G comparable, V any](keys []K, split func(K) (G, int64), run func(G, []int64) ([]V, error)) ([]V, error) {
	out := make([]V, len(keys))
	groups := map[G][]int{}
	var order []G
	ids := make([]int64, len(keys))
	for i, k := range keys {
		g, id := split(k)
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], i)
		ids[i] = id
	}
	for _, g := range order {
		idx := groups[g]
		in := make([]int64, len(idx))
		for j, i := range idx {
			in[j] = ids[i]
		}
		vals, err := run(g, in)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			out[i] = vals[j]
		}
	}
	return out, nil
}

// regionCases runs one case query for many regions and primes the selected
// relations (sel) of all their cases at once.
func regionCases(ctx context.Context, st *store.Store, l *Loaders, regions []*store.Region, q store.CaseQuery, sel caseRelations) ([]store.Page[*store.Case], error) {
	pages, err := st.CasesInRegions(ctx, regions, q)
	if err != nil {
		return nil, err
	}
	var all []*store.Case
	for _, p := range pages {
		all = append(all, p.Nodes()...)
	}
	if err := primeCaseRelations(ctx, st, l, all, sel); err != nil {
		return nil, err
	}
	return pages, nil
}

// regionStatsKey asks for the statistics of one region; Args is the
// canonical encoding of the filter and dimensions (a statsArgs), so keys
// with equal Args run as one statement.
type regionStatsKey struct {
	Region int64
	Args   string
}

type statsArgs struct {
	Filter   store.CaseFilter
	Dims     []store.Dimension
	Measures store.Measures
}

// regionStatsBatch runs one statement per distinct filter and grouping:
// Region.caseStats on a page of grids is one statement.
func regionStatsBatch(st *store.Store, dir *store.RegionDirectory) func(context.Context, []regionStatsKey) ([][]store.Bucket, error) {
	return func(ctx context.Context, keys []regionStatsKey) ([][]store.Bucket, error) {
		return byGroup(keys, func(k regionStatsKey) (string, int64) { return k.Args, k.Region },
			func(args string, ids []int64) ([][]store.Bucket, error) {
				var q statsArgs
				if err := json.Unmarshal([]byte(args), &q); err != nil {
					return nil, err
				}
				regions, err := dir.ByID(ctx, ids)
				if err != nil {
					return nil, err
				}
				return st.CaseStatsInRegions(ctx, regions, q.Filter, q.Dims, q.Measures)
			})
	}
}

// regionChildrenKey asks for one page of a region's children; Args is the
// canonical encoding of the page arguments (a store.PageArgs).
type regionChildrenKey struct {
	Parent int64
	Args   string
}

// regionChildrenBatch runs one statement per distinct page: the children of
// every community of a street are one statement, and arrive together, so
// that what their own fields load is batched across the street too.
func regionChildrenBatch(dir *store.RegionDirectory, prefetch func(context.Context, []*store.Region) error) func(context.Context, []regionChildrenKey) ([]store.Page[*store.Region], error) {
	return func(ctx context.Context, keys []regionChildrenKey) ([]store.Page[*store.Region], error) {
		out, err := byGroup(keys, func(k regionChildrenKey) (string, int64) { return k.Args, k.Parent },
			func(args string, parents []int64) ([]store.Page[*store.Region], error) {
				var p store.PageArgs
				if err := json.Unmarshal([]byte(args), &p); err != nil {
					return nil, err
				}
				return dir.Children(ctx, parents, p)
			})
		if err != nil || prefetch == nil {
			return out, err
		}
		var children []*store.Region
		for _, p := range out {
			children = append(children, p.Nodes()...)
		}
		// The batch runs in the first caller's field context, whose
		// selection is every caller's: the same field of the query.
		if err := prefetch(ctx, children); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// buildingLinks is the batch of the building links of one kind of record.
func buildingLinks(st *store.Store, kind string) func(context.Context, []int64) ([]*store.BuildingLink, error) {
	return func(ctx context.Context, ids []int64) ([]*store.BuildingLink, error) {
		return st.BuildingLinksOf(ctx, kind, ids)
	}
}
