// Package graph is the GraphQL layer: gqlgen resolvers over the store's read
// API, per-request dataloaders for every relation, global IDs, and the error
// presenter that maps application errors onto extensions.code.
//
// graph imports the store and the canonical model, never the connectors.
package graph

import (
	"log/slog"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/pii"
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
	// access is the schema's authorisation (set by NewHandler), for the
	// resolvers that check a type before loading it.
	access *access
}
