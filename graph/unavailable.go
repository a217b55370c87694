package graph

import (
	"context"
	"sync/atomic"
)

// storeRetryAfter is the Retry-After, in seconds, of an answer the store
// could not give (STORE_UNAVAILABLE).
const storeRetryAfter = "2"

// unavailableMark records, for one HTTP request, that an error of its
// operation was STORE_UNAVAILABLE: the answer is then sent with 503 and
// Retry-After instead of 200, so that clients and proxies retry it rather
// than take it for data.
type unavailableMark struct{ set atomic.Bool }

type unavailableKey struct{}

func withUnavailableMark(ctx context.Context) (context.Context, *unavailableMark) {
	m := &unavailableMark{}
	return context.WithValue(ctx, unavailableKey{}, m), m
}

// markStoreUnavailable flags the request of ctx, if it is an HTTP request
// (websocket operations have no status to set).
func markStoreUnavailable(ctx context.Context) {
	if m, ok := ctx.Value(unavailableKey{}).(*unavailableMark); ok {
		m.set.Store(true)
	}
}
