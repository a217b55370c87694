// Package connectors defines the contract between source systems and the
// hub: a Connector describes itself and pulls pages of native records from an
// opaque cursor, mapping each record to canonical records (package canon),
// to a tombstone, or to a quarantine entry that keeps the raw payload and
// says why it was refused. A connector never writes to the store; the sync
// engine does, committing each batch together with its cursor.
//
// Each source system has a package of its own below this one, and the shared
// normalisers (citizen ID, phone, address, coordinates, time, code tables)
// live in connectors/normalize. The sources configuration (config.go) and
// the registry of connector types (registry.go) are here too: each connector
// package registers its type, its settings and its constructor.
package connectors

import (
	"context"
	"crypto/sha256"
	"errors"

	"github.com/ywtg/hub/canon"
)

// Description says what a connector is and what it reads.
type Description struct {
	Name        string           // configured source name, e.g. "governance"
	Kind        canon.SourceKind // protocol family
	Description string           // human description, e.g. "综治网格化服务管理平台"
	// Streams are the record families the source offers, in the order they
	// must be synchronised (referenced records first: grids before
	// residents, organisations before members).
	Streams []string
	// Backfills names the source whose history this one fills in: a second
	// channel of the same system (a CSV export of the city-management
	// system's Open311 cases, say). Its records carry that source's name and
	// ids and are stored only where the store holds no record of that
	// source under the id: the live channel's record always wins. Empty
	// for an ordinary source.
	Backfills string
	// History reports that the source delivers history rather than the
	// system's current state (an export whose old files may be
	// withdrawn): a complete re-pull does not delete the records it no
	// longer sees.
	History bool
}

// ErrCursorRejected reports that the source no longer recognises the
// stored cursor: it was restored from a backup, renumbered or reset, so
// its data moved behind the position the hub holds. Connectors wrap it
// (fmt.Errorf("...: %w", ErrCursorRejected)) wherever their protocol lets
// them tell; the sync engine answers with a complete re-pull of the source
// that reconciles the store with what the source holds now.
var ErrCursorRejected = errors.New("the source rejected the cursor (reset, restored or renumbered)")

// Request asks a connector for the next page of one stream.
type Request struct {
	Stream string
	// Cursor is the opaque position returned with the previous page; empty
	// starts from the beginning.
	Cursor string
	// Full asks for a complete re-pull instead of changes since Cursor.
	Full bool
	// Limit is the preferred page size; connectors may return fewer records,
	// or more where the source's own paging dictates.
	Limit int
}

// Batch is one page of a stream, mapped.
type Batch struct {
	// Records are canonical records ready to store (e.g. *canon.Case).
	Records []any
	// Tombstones are records the source deleted or marked invalid.
	Tombstones []Tombstone
	// Quarantine holds the native records that could not be mapped.
	Quarantine []Quarantine
	// Fetched counts native records read; every one of them is exactly one
	// of a record, a tombstone or a quarantine entry, so
	// Fetched = len(Records) + len(Tombstones) + len(Quarantine).
	Fetched int
	// Next is the cursor after this page; the sync engine stores it in the
	// same transaction as the batch.
	Next string
	// More reports that the stream has further pages now.
	More bool
}

// Tombstone marks a source record as deleted.
type Tombstone struct {
	Type     canon.RecordType // which canonical record it removes
	SourceID string
	Reason   string // e.g. "sfyx=0", "deleted=1"
}

// Reason classifies why a record was quarantined.
type Reason string

// Quarantine is a native record the hub refused, kept whole.
type Quarantine struct {
	Stream   string
	SourceID string // empty when the record had none
	Reason   Reason
	Field    string // the offending field, if one
	Message  string
	Raw      []byte // the original payload, byte for byte
}

// Connector pulls one source system.
type Connector interface {
	// Describe says what the connector reads.
	Describe() Description
	// Pull returns the next page of a stream. A source that cannot be
	// reached yields an error whose code (canon.ErrorCode) is
	// SOURCE_UNAVAILABLE once retries are exhausted; a source that no
	// longer knows the cursor yields one wrapping ErrCursorRejected.
	Pull(ctx context.Context, req Request) (Batch, error)
}

// PayloadHash is the provenance hash of a raw payload.
func PayloadHash(raw []byte) []byte {
	sum := sha256.Sum256(raw)
	return sum[:]
}
