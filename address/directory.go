package address

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ywtg/hub/canon"
)

// Reference is the reference data a gazetteer is built from.
type Reference = canon.AddressReference

// Source provides reference data. AddressVersion is a cheap fingerprint of
// it (row counts and the newest change, say), so that an unchanged
// reference is not reloaded.
type Source interface {
	AddressVersion(ctx context.Context) (string, error)
	AddressReference(ctx context.Context) (Reference, error)
}

// Directory keeps the gazetteer of a changing reference current (compounds
// and buildings arrive with every sync). It rebuilds when the source's
// version changed: when told to (Refresh, e.g. before a hub reports
// ready), when the data changed (Follow), or, with a TTL, when a caller
// finds the last look older than that. Callers get the current gazetteer
// at once while a rebuild runs; only the first callers wait. Safe for
// concurrent use.
type Directory struct {
	src Source
	ttl time.Duration
	log *slog.Logger

	load sync.Mutex // one load at a time

	mu      sync.Mutex // guards the fields below
	g       *Gazetteer
	version string
	checked time.Time
	loading bool
}

// NewDirectory serves gazetteers of src, checking for changes at most once
// per ttl when called (ttl ≤ 0: only by Refresh and Follow); failed
// background refreshes are logged to log.
func NewDirectory(src Source, ttl time.Duration, log *slog.Logger) *Directory {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Directory{src: src, ttl: ttl, log: log}
}

// Gazetteer returns the current gazetteer, building it on first use.
func (d *Directory) Gazetteer(ctx context.Context) (*Gazetteer, error) {
	if g := d.current(ctx, false); g != nil {
		return g, nil
	}
	return d.refresh(ctx)
}

// Current returns the gazetteer in use without waiting: nil before the
// first build (which it starts) or on a nil Directory. Mapping code that
// must not block uses it; a caller that needs an answer calls Gazetteer.
func (d *Directory) Current() *Gazetteer {
	if d == nil {
		return nil
	}
	return d.current(context.Background(), true)
}

// current returns the gazetteer in use and starts a background refresh
// when it is stale, or with first when there is none yet.
func (d *Directory) current(ctx context.Context, first bool) *Gazetteer {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.loading && (d.g == nil && first || d.g != nil && d.ttl > 0 && time.Since(d.checked) >= d.ttl) {
		d.loading = true
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if _, err := d.refresh(ctx); err != nil {
				d.log.Warn("address reference refresh failed; the previous one stays in use", "err", err)
			}
		}()
	}
	return d.g
}

// Refresh rebuilds the gazetteer now if the reference changed since the
// last build, and returns the gazetteer in use: after it returns, matches
// see every compound and building committed before it was called.
func (d *Directory) Refresh(ctx context.Context) (*Gazetteer, error) { return d.refresh(ctx) }

// Follow refreshes the directory whenever the data changed, until ctx
// ends. generation reports a counter that moves on every committed change
// and whether it is known (the store's change notifications); it is read
// every poll, which costs nothing, and the reference's version is only
// queried after it moved. While the generation is not known the version
// is queried every poll instead.
func (d *Directory) Follow(ctx context.Context, generation func() (uint64, bool), poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	var seen uint64
	known := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		gen, live := generation()
		if live && known && gen == seen {
			continue
		}
		if _, err := d.refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.log.Warn("address reference refresh failed; the previous one stays in use", "err", err)
			continue
		}
		seen, known = gen, live
	}
}

// refresh rebuilds the gazetteer if the reference changed since the last
// build, and returns the gazetteer in use.
func (d *Directory) refresh(ctx context.Context) (*Gazetteer, error) {
	d.load.Lock()
	defer d.load.Unlock()
	d.mu.Lock()
	g, version := d.g, d.version
	d.mu.Unlock()

	v, err := d.src.AddressVersion(ctx)
	if err == nil && (g == nil || v != version) {
		var ref Reference
		if ref, err = d.src.AddressReference(ctx); err == nil {
			var built *Gazetteer
			if built, err = NewGazetteer(ref.Regions, distinctBuildings(ref.Compounds)); err == nil {
				g, version = built, v
			}
		}
	}
	d.mu.Lock()
	d.g, d.version = g, version
	d.checked, d.loading = time.Now(), false
	d.mu.Unlock()
	if err != nil {
		return g, fmt.Errorf("address reference: %w", err)
	}
	return g, nil
}

// distinctBuildings keeps, of two buildings of a compound whose numbers
// normalise alike (3 and 3栋, as two sources write one building), the
// first: synced data may hold both, and the gazetteer wants each number of
// a compound once.
func distinctBuildings(compounds []Compound) []Compound {
	for i := range compounds {
		bs := compounds[i].Buildings
		if len(bs) < 2 {
			continue
		}
		seen := make(map[string]bool, len(bs))
		kept := make([]Building, 0, len(bs))
		for _, b := range bs {
			if n := BuildingNumber(b.Number); !seen[n] {
				seen[n] = true
				kept = append(kept, b)
			}
		}
		compounds[i].Buildings = kept
	}
	return compounds
}
