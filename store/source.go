package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ywtg/hub/canon"
)

// SourceStatus is the health of a source's synchronisation.
type SourceStatus string

// Source statuses.
const (
	SourceNeverSynced SourceStatus = "NEVER_SYNCED"
	SourceSyncing     SourceStatus = "SYNCING"
	SourceOK          SourceStatus = "OK"
	SourceDegraded    SourceStatus = "DEGRADED"
	SourceDown        SourceStatus = "DOWN"
)

// Source is a configured source system with its synchronisation totals.
type Source struct {
	Name                string
	Kind                canon.SourceKind
	Description         string
	Status              SourceStatus
	LastSyncedAt        *time.Time
	LastAttemptAt       *time.Time
	ConsecutiveFailures int
	LastError           *string
	RecordsFetched      int64
	RecordsStored       int64
	RecordsQuarantined  int64
	// FieldDefects counts field-level quarantine entries, all time, and
	// RecordsWithFieldDefects the stored records they belong to.
	FieldDefects            int64
	RecordsWithFieldDefects int64
	// ResyncPending: the source rejected the cursor and a complete
	// re-pull has not finished since.
	ResyncPending bool
	// ResetDetectedAt and ResetReason tell the last time the source
	// rejected the cursor, and how; nil if it never did.
	ResetDetectedAt *time.Time
	ResetReason     *string
}

const sourceColumns = `name, kind, description, status, last_synced_at, last_attempt_at, consecutive_failures,
	last_error, records_fetched, records_stored, records_quarantined, resync_pending, reset_detected_at, reset_reason,
	field_defects, records_with_field_defects`

func scanSource(row pgx.Row) (*Source, error) {
	s := &Source{}
	err := row.Scan(&s.Name, &s.Kind, &s.Description, &s.Status, &s.LastSyncedAt, &s.LastAttemptAt, &s.ConsecutiveFailures, &s.LastError,
		&s.RecordsFetched, &s.RecordsStored, &s.RecordsQuarantined, &s.ResyncPending, &s.ResetDetectedAt, &s.ResetReason,
		&s.FieldDefects, &s.RecordsWithFieldDefects)
	return s, err
}

// Sources lists every configured source by name.
func (s *Store) Sources(ctx context.Context) ([]*Source, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+sourceColumns+" FROM source ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Source, error) { return scanSource(r) })
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return list, nil
}

// SourcesByName loads sources for a batch of names, in key order.
func (s *Store) SourcesByName(ctx context.Context, names []string) ([]*Source, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+sourceColumns+" FROM source WHERE name = ANY($1)", names)
	if err != nil {
		return nil, fmt.Errorf("load sources: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Source, error) { return scanSource(r) })
	if err != nil {
		return nil, fmt.Errorf("load sources: %w", err)
	}
	return inKeyOrder(names, list, func(s *Source) string { return s.Name }), nil
}

// Category is a stored node of the unified taxonomy.
type Category struct {
	Code       string
	Name       string
	ParentCode *string
	Kind       canon.CaseKind
	Level      int
}
