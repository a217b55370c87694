// Package graph is the GraphQL layer: gqlgen resolvers over the store's read
// API, per-request dataloaders for every relation, global IDs, and the error
// presenter that maps application errors onto extensions.code.
//
// One batching story: every relation loads through the request's loaders
// (loader.go), one statement per kind and batch. A list of objects asks
// once for the whole list, through gqlgen's batch resolvers (Case.grid,
// …) or a resolver that queues all keys at once (loadAll). Where one
// field's objects lie in many lists (a page of regions, each with its
// cases or statistics), the page's resolver loads its children's values up
// front and primes the loaders (prefetch.go): it reads the children's
// arguments with the executor's own parsing (generated.RegionCasesArgs)
// and builds their keys with the same function as the child resolver
// (regionCasesQuery, regionStatsQuery), so a primed key is the one asked.
// The category table, a few dozen rows every case names, is not loaded
// per key: a request reads it whole once (categories.go), from memory
// while the change notifications are followed and it has not changed. The
// region layer is read through the handler's store.RegionDirectory, from
// memory on the same terms.
// The executor marshals a list in place, without a goroutine per element
// and per resolver, when nothing selected under it waits on I/O
// (graph/generated/inline.go): its table of primed fields names what
// prefetchCases, regionCases and prefetchRegions load, and its withoutIO
// the resolvers here that do no I/O; both must follow the resolvers.
//
// graph imports the store and the canonical model, never the connectors.
package graph

import (
	"context"
	"log/slog"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/pii"
	"github.com/ywtg/hub/resolve"
	"github.com/ywtg/hub/store"
)

// Resolver holds the dependencies of every resolver.
type Resolver struct {
	Store *store.Store
	Log   *slog.Logger
	PII   *pii.Keys // opens sealed values for audited unmasking; nil disables it
	// Addresses is the gazetteer of Query.standardizeAddress.
	Addresses *address.Directory
	// ScorePresets are the composite scores of Indicators.score by name;
	// nil serves the shipped ones (store.ScorePresets).
	ScorePresets map[string]store.ScorePreset
	// feed drives the subscriptions; nil refuses them.
	feed *Feed
	// loaderWait is the loaders' batch window (Config.LoaderWait); 0 for
	// DefaultLoaderWait.
	loaderWait time.Duration
	// persons resolves persons after a decision; nil: resolve.ResolvePersons.
	persons *resolve.PersonResolver
	// incidents regroups incidents after a decision; nil:
	// resolve.RegroupIncidents.
	incidents *resolve.IncidentRegrouper
	// resolving tells whether this process resolves now (Config.Resolving);
	// nil: it always does.
	resolving func(context.Context) bool
	// access is the schema's authorisation (set by NewHandler), for the
	// resolvers that check a type before loading it.
	access *access
	// categoryTable holds the category table across requests while the
	// change notifications are followed, and regions the region layer.
	categoryTable *categoryTable
	regions       *store.RegionDirectory
}
