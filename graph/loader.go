package graph

import (
	"context"
	"net/http"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/ywtg/hub/store"
)

// loaderWait is how long a loader collects keys before it runs its batch.
// gqlgen resolves sibling fields concurrently, so a short window suffices.
const loaderWait = 5 * time.Millisecond

// Loaders batch every relation of one request into one statement per kind.
// They live for one request only, so their caches never serve stale data
// across requests.
type Loaders struct {
	Region   *dataloader.Loader[int64, *store.Region]
	Case     *dataloader.Loader[int64, *store.Case]
	Source   *dataloader.Loader[string, *store.Source]
	Category *dataloader.Loader[string, *store.Category]
	Timeline *dataloader.Loader[int64, []store.CaseEvent]
}

// NewLoaders builds the loaders of one request.
func NewLoaders(st *store.Store) *Loaders {
	return &Loaders{
		Region:   newLoader(st.RegionsByID),
		Case:     newLoader(st.CasesByID),
		Source:   newLoader(st.SourcesByName),
		Category: newLoader(st.CategoriesByCode),
		Timeline: newLoader(st.CaseTimelines),
	}
}

// newLoader adapts a store batch query (results in key order) to a loader.
func newLoader[K comparable, V any](batch func(context.Context, []K) ([]V, error)) *dataloader.Loader[K, V] {
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
	return dataloader.NewBatchedLoader(fn, dataloader.WithWait[K, V](loaderWait), dataloader.WithBatchCapacity[K, V](1000))
}

type loadersKey struct{}

// WithLoaders attaches fresh loaders to each request.
func WithLoaders(st *store.Store, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), loadersKey{}, NewLoaders(st))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// loaders returns the request's loaders, or a fresh set when the request
// did not come through WithLoaders (e.g. a direct executor call).
func (r *Resolver) loaders(ctx context.Context) *Loaders {
	if l, ok := ctx.Value(loadersKey{}).(*Loaders); ok {
		return l
	}
	return NewLoaders(r.Store)
}
