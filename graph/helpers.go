package graph

import (
	"context"
	"sort"
	"time"

	"github.com/ywtg/hub/canon"
)

// loadOpt loads an optional reference: nil id, nil result.
func loadOpt[V any](ctx context.Context, l *lazyLoader[int64, *V], id *int64) (*V, error) {
	if id == nil {
		return nil, nil
	}
	return l.Get(ctx, *id)
}

// dateString formats a date-only value as YYYY-MM-DD.
func dateString(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(time.DateOnly)
	return &s
}

// point builds a position from nullable coordinates.
func point(lat, lng *float64) *canon.Point {
	if lat == nil || lng == nil {
		return nil
	}
	return &canon.Point{Lat: *lat, Lng: *lng}
}

// nonNil drops missing rows from a loaded list.
func nonNil[T any](in []*T) []*T {
	out := make([]*T, 0, len(in))
	for _, v := range in {
		if v != nil {
			out = append(out, v)
		}
	}
	return out
}

// loadOpts loads optional references of many parents in one batch; nil keys
// give nil results.
func loadOpts[K comparable, V any](ctx context.Context, l *lazyLoader[K, *V], keys []*K) ([]*V, error) {
	return loadEach(ctx, l, len(keys), func(i int) (K, bool) {
		if keys[i] == nil {
			var zero K
			return zero, false
		}
		return *keys[i], true
	})
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
