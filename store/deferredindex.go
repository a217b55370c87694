package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Deferred indexes. A first load writes a city's million cases; each
// secondary index of "case" maintained row by row costs an insertion per
// case, and together they outgrow the server's buffers: the index pages
// evicted dirty and touched again cost more than the rows. Built from the
// loaded table, an index costs one sort instead. So a load into an empty
// table drops the indexes that only the API's reads use (DeferIndexes),
// keeping their definitions in deferred_index (migration 052), and builds
// them once the load has ended (BuildDeferredIndexes). Meanwhile those
// reads scan the table, which holds only what has been loaded so far.
//
// What stays: the keys the upserts conflict on, and the indexes that
// entity resolution probes. The hub resolves once a load has ended, beside
// the build (syncer.Options.Loaded), and a replica that did not load may
// resolve during another's: incident regrouping finds a case's incident by
// case_incident_idx, which also serves the foreign key of an incident
// deleted (without it, a seq scan of "case" per incident) and costs a load
// nothing (it holds only cases with an incident); person resolution and
// building links probe the person tables by person (person_link_person_idx,
// resident_person_idx), so those tables keep theirs — deferring their
// indexes gained 4% of a city's load in one run, within the benchmark's
// noise.

// loadIndexes are the indexes a first load defers, by table.
var loadIndexes = map[string][]string{
	"case": {"case_category_idx", "case_due_idx", "case_indicator_idx", "case_region_path_idx",
		"case_reported_idx", "case_search_idx", "case_status_idx", "case_updated_idx"},
}

// DeferIndexes drops the deferred indexes (loadIndexes) of each table
// that is still empty, keeping their definitions until
// BuildDeferredIndexes builds them again, and returns their names. A
// table that holds rows keeps its indexes, and is not locked: the engine
// asks at every start, while the API may be reading.
func (s *Store) DeferIndexes(ctx context.Context) ([]string, error) {
	ctx = Unscoped(ctx) // the schema, not the hub's data
	var dropped []string
	for _, table := range slices.Sorted(maps.Keys(loadIndexes)) {
		quoted := pgx.Identifier{table}.Sanitize()
		var empty bool
		if err := s.pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT FROM `+quoted+`)`).Scan(&empty); err != nil {
			return nil, fmt.Errorf("defer the indexes of %s: %w", table, err)
		}
		if !empty {
			continue
		}
		err := s.InTx(ctx, func(w *Writer) error {
			// The lock the drops take, taken first: a writer that got in
			// before has committed, and none gets in before this commits.
			// A read that holds the table longer (an export) is not waited
			// for: the reads queued behind the lock would wait with it.
			if _, err := w.tx.Exec(ctx, `SET LOCAL lock_timeout = '2s'`); err != nil {
				return err
			}
			if _, err := w.tx.Exec(ctx, `LOCK TABLE `+quoted+` IN ACCESS EXCLUSIVE MODE`); err != nil {
				return err
			}
			if err := w.tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT FROM `+quoted+`)`).Scan(&empty); err != nil {
				return err
			}
			if !empty {
				return nil
			}
			// The indexes as they stand: one dropped already (a load that
			// stopped) has its definition kept.
			rows, err := w.tx.Query(ctx, `SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c
				JOIN pg_index i ON i.indexrelid = c.oid
				WHERE i.indrelid = $1::regclass AND c.relname = ANY($2) ORDER BY 1`, quoted, loadIndexes[table])
			if err != nil {
				return err
			}
			type index struct{ name, definition string }
			list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
				var x index
				err := r.Scan(&x.name, &x.definition)
				return x, err
			})
			if err != nil {
				return err
			}
			for _, x := range list {
				if _, err := w.tx.Exec(ctx, `INSERT INTO deferred_index (name, table_name, definition) VALUES ($1, $2, $3)
					ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition`, x.name, table, x.definition); err != nil {
					return err
				}
				if _, err := w.tx.Exec(ctx, `DROP INDEX `+pgx.Identifier{x.name}.Sanitize()); err != nil {
					return err
				}
				dropped = append(dropped, x.name)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("defer the indexes of %s: %w", table, err)
		}
	}
	return dropped, nil
}

// buildWorkers is how many deferred indexes are built side by side: a GIN
// or GiST build runs on one core (PostgreSQL parallelises only B-tree
// builds), and the two largest, of "case", are one of each.
const buildWorkers = 2

// BuildDeferredIndexes builds every index DeferIndexes dropped, each in a
// transaction of its own that also deletes its definition, and returns
// their names. Replicas building at once share the work (each takes an
// index the others have not). An index whose name stands already is left
// as it is.
func (s *Store) BuildDeferredIndexes(ctx context.Context) ([]string, error) {
	ctx = Unscoped(ctx) // the schema, not the hub's data
	var (
		mu    sync.Mutex
		built []string
		errs  []error
		wg    sync.WaitGroup
	)
	for range buildWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				name, err := s.buildDeferredIndex(ctx)
				mu.Lock()
				if name != "" {
					built = append(built, name)
				}
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if name == "" || err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return built, fmt.Errorf("build deferred indexes: %w", err)
	}
	return built, nil
}

// buildDeferredIndex builds one deferred index no other session is
// building, the largest kinds first (GiST and GIN builds take longest);
// it returns "" when none is left.
func (s *Store) buildDeferredIndex(ctx context.Context) (string, error) {
	var name string
	err := s.InTx(ctx, func(w *Writer) error {
		var definition string
		err := w.tx.QueryRow(ctx, `SELECT name, definition FROM deferred_index
			ORDER BY definition LIKE '% USING btree %', name LIMIT 1 FOR UPDATE SKIP LOCKED`).Scan(&name, &definition)
		if errors.Is(err, pgx.ErrNoRows) {
			name = ""
			return nil
		}
		if err != nil {
			return err
		}
		var stands bool
		if err := w.tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&stands); err != nil {
			return err
		}
		if !stands {
			if _, err := w.tx.Exec(ctx, definition); err != nil {
				return err
			}
		}
		_, err = w.tx.Exec(ctx, `DELETE FROM deferred_index WHERE name = $1`, name)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("build %s: %w", name, err)
	}
	return name, nil
}
