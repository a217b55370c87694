// Package syncer is the synchronisation engine: it schedules every
// configured source, pulls pages through its connector from the stored
// cursor, and writes each page to the store in one transaction together with
// the new cursor and the page's counts, so that a crash at any instant loses
// nothing and duplicates nothing. It quarantines refused records, backs off
// and marks a failing source DEGRADED then DOWN while the others go on, and
// takes a PostgreSQL advisory lock per source so that several hub replicas
// never sync one source at once.
//
// syncer imports the connector contract, the canonical model and the store.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/store"
)

// Source is a connector with its schedule.
type Source struct {
	Connector connectors.Connector
	Interval  time.Duration // between incremental passes
}

// Options tune the engine.
type Options struct {
	Log       *slog.Logger
	Registry  prometheus.Registerer // nil for no metrics
	PageSize  int                   // preferred page size asked of connectors; default 2000
	BatchSize int                   // records per transaction, gathered over pages; default 5000
	DownAfter int                   // consecutive failures before DOWN; default 3
	// MaxBackoff caps the wait after failures; default 5 minutes.
	MaxBackoff time.Duration
	// Ready is told when a pass of a source succeeded (or, when another
	// process holds the source, that the store has it synced and not
	// DOWN).
	Ready func(source string)
	// NotReady is told why a source cannot be relied on: its pass left
	// it DOWN, or it rejected the cursor and is being re-pulled. Ready
	// follows once a pass succeeds.
	NotReady func(source, reason string)
	// Loaded is told once by Run, when every source's first pass has
	// ended, whatever its outcome: the end of a first load (or of the
	// catching up after a start), before the indexes a first load deferred
	// are built. Work that reads the whole store after passes (entity
	// resolution) waits for it: started after the quickest source's first
	// pass, it resolved a growing part of a city's first load again and
	// again beside it, and made the load queue every record it wrote.
	Loaded func()
	// Holder names this process in the runs it records; default host:pid.
	Holder string
	// PrepareBackfillAbove: a backfilled source's first pass that wrote
	// this many records or more has the store prepare for the backfill's
	// probes of what it holds before the backfill's pass
	// (store.Store.PrepareBackfill); default 10,000.
	PrepareBackfillAbove int
}

// Engine synchronises sources into the store.
type Engine struct {
	store   *store.Store
	sources []Source
	opts    Options
	metrics *metrics
	// backfills are the sources that fill in another's history
	// (connectors.Description.Backfills): their records are only inserted.
	backfills map[string]bool
	// backfilledBy names, per source, the sources that backfill it.
	backfilledBy map[string][]string
}

// New returns an engine; it registers every source in the store on Run or
// SyncOnce.
func New(st *store.Store, sources []Source, o Options) (*Engine, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.PageSize <= 0 {
		o.PageSize = 2000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.DownAfter <= 0 {
		o.DownAfter = 3
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.Ready == nil {
		o.Ready = func(string) {}
	}
	if o.NotReady == nil {
		o.NotReady = func(string, string) {}
	}
	if o.Loaded == nil {
		o.Loaded = func() {}
	}
	if o.Holder == "" {
		o.Holder = store.DefaultHolder()
	}
	if o.PrepareBackfillAbove <= 0 {
		o.PrepareBackfillAbove = 10000
	}
	m, err := newMetrics(o.Registry)
	if err != nil {
		return nil, err
	}
	seen, backfills, backfilledBy := map[string]bool{}, map[string]bool{}, map[string][]string{}
	for _, s := range sources {
		d := s.Connector.Describe()
		if seen[d.Name] {
			return nil, fmt.Errorf("syncer: source %q configured twice", d.Name)
		}
		seen[d.Name] = true
		backfills[d.Name] = d.Backfills != ""
		if d.Backfills != "" {
			backfilledBy[d.Backfills] = append(backfilledBy[d.Backfills], d.Name)
		}
	}
	return &Engine{store: st, sources: sources, opts: o, metrics: m, backfills: backfills, backfilledBy: backfilledBy}, nil
}

// Register records every configured source in the store.
func (e *Engine) Register(ctx context.Context) error {
	return e.store.InTx(ctx, func(w *store.Writer) error {
		for _, s := range e.sources {
			d := s.Connector.Describe()
			if err := w.UpsertSource(ctx, canon.Source{Name: d.Name, Kind: d.Kind, Description: d.Description}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Run syncs every source on its own schedule until ctx ends. A failing
// source backs off on its own; the others are unaffected.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.Register(ctx); err != nil {
		return err
	}
	first := e.firstPasses(e.sources)
	e.deferIndexes(ctx)
	var wg, firstWG sync.WaitGroup
	firstWG.Add(len(e.sources))
	for _, s := range e.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.loop(ctx, s, first, firstWG.Done)
		}()
	}
	// The indexes a first load deferred are built once every source's
	// first pass has ended, whatever its outcome: a source that keeps
	// failing does not leave the others' records unindexed.
	wg.Add(1)
	go func() {
		defer wg.Done()
		firstWG.Wait()
		if ctx.Err() != nil {
			return
		}
		e.opts.Loaded()
		for failures := 0; ; failures++ {
			if err := e.BuildDeferred(ctx); err == nil || ctx.Err() != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff(time.Second, failures+1, e.opts.MaxBackoff)):
			}
		}
	}()
	wg.Wait()
	return nil
}

// deferIndexes lets a first load write into empty tables without their
// secondary indexes (store.DeferIndexes). Failing to is not fatal: the
// load then maintains them as it writes.
func (e *Engine) deferIndexes(ctx context.Context) {
	names, err := e.store.DeferIndexes(ctx)
	switch {
	case err != nil:
		e.opts.Log.Warn("first load: indexes not deferred", "err", err)
	case len(names) > 0:
		e.opts.Log.Info("first load: secondary indexes deferred until its passes end", "indexes", names)
	}
}

// BuildDeferred builds the indexes a first load deferred, here or in a
// process that stopped during its load; with none deferred it returns at
// once. Run builds them itself once every source's first pass has ended,
// SyncOnce at its end; a caller of SyncPasses chooses when.
func (e *Engine) BuildDeferred(ctx context.Context) error {
	t0 := time.Now()
	built, err := e.store.BuildDeferredIndexes(ctx)
	if len(built) > 0 {
		e.opts.Log.Info("first load: deferred indexes built", "indexes", built, "took", time.Since(t0).Round(time.Millisecond))
	}
	if err != nil {
		e.opts.Log.Warn("first load: deferred indexes not built", "err", err)
	}
	return err
}

// firstPass is the first pass (of those about to run) of a source that
// others backfill.
type firstPass struct {
	done  chan struct{} // closed when the pass has ended, whatever its outcome
	wrote int           // records it wrote, set before done is closed
}

// end records how the pass ended and tells the backfills waiting for it.
func (p *firstPass) end(res Result) {
	p.wrote = res.Counts.Stored - res.Counts.Unchanged
	close(p.done)
}

// firstPasses has a firstPass for each of the sources that others
// backfill.
func (e *Engine) firstPasses(sources []Source) map[string]*firstPass {
	out := map[string]*firstPass{}
	for _, s := range sources {
		if n := s.Connector.Describe().Name; len(e.backfilledBy[n]) > 0 {
			out[n] = &firstPass{done: make(chan struct{})}
		}
	}
	return out
}

// afterBackfilled waits, for a backfilling source, until the first pass
// of the source it backfills has ended (when that pass is among first):
// the live channel writes its records first, and the backfill then only
// inserts the history the live channel does not serve. Backfilling first
// wrote the same cases twice (the live channel overwrites a backfilled
// case), the same end state for twice the work. When that pass wrote
// Options.PrepareBackfillAbove records or more (a first load), the store
// prepares for the backfill's probes of the records it holds first
// (store.Store.PrepareBackfill); failing to is not fatal.
func (e *Engine) afterBackfilled(ctx context.Context, d connectors.Description, first map[string]*firstPass) {
	p, ok := first[d.Backfills]
	if !ok || d.Backfills == "" {
		return
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return
	}
	if p.wrote < e.opts.PrepareBackfillAbove {
		return
	}
	t0 := time.Now()
	if err := e.store.PrepareBackfill(ctx); err != nil {
		e.opts.Log.Warn("backfill: the records held not prepared", "source", d.Name, "err", err)
		return
	}
	e.opts.Log.Info("backfill: the records held prepared", "source", d.Name, "backfills", d.Backfills,
		"written", p.wrote, "took", time.Since(t0).Round(time.Millisecond))
}

// loop syncs one source until ctx ends; firstDone is called once its
// first pass has ended (or ctx ended before).
func (e *Engine) loop(ctx context.Context, s Source, first map[string]*firstPass, firstDone func()) {
	d := s.Connector.Describe()
	name := d.Name
	failures := 0
	e.afterBackfilled(ctx, d, first)
	passed := false // first is only read here: each source closes its own channel
	defer func() {
		if !passed {
			firstDone()
		}
	}()
	for {
		res, err := e.Pass(ctx, s.Connector, false)
		if !passed {
			if p, ok := first[name]; ok {
				p.end(res)
			}
			passed = true
			firstDone()
		}
		switch {
		case errors.Is(err, ErrLocked):
			// Another replica holds the source; try again next interval,
			// and take over if it dies. Meanwhile the store says how the
			// source is doing.
			e.readyFromStore(ctx, name)
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			failures++
			e.opts.Log.Warn("sync failed", "source", name, "failures", failures, "status", res.Status, "err", err)
			if res.Status == store.SourceDown {
				e.opts.NotReady(name, "source DOWN: "+err.Error())
			}
		default:
			failures = 0
			e.opts.Ready(name)
		}
		wait := s.Interval
		if failures > 0 {
			wait = backoff(s.Interval, failures, e.opts.MaxBackoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// readyFromStore reports the readiness of a source another process syncs:
// ready once the store has it synced, not DOWN and owing no re-pull.
func (e *Engine) readyFromStore(ctx context.Context, name string) {
	list, err := e.store.SourcesByName(store.Unscoped(ctx), []string{name}) // the engine reads unscoped
	if err != nil || len(list) == 0 || list[0] == nil {
		return
	}
	switch src := list[0]; {
	case src.LastSyncedAt == nil:
		e.opts.NotReady(name, "first synchronisation not finished (by another process)")
	case src.Status == store.SourceDown:
		e.opts.NotReady(name, "source DOWN (synced by another process)")
	case src.ResyncPending:
		e.opts.NotReady(name, "source reset detected: complete re-pull running (by another process)")
	default:
		e.opts.Ready(name)
	}
}

// backoff doubles the wait per consecutive failure, capped, with ±20% jitter
// so replicas and sources do not retry in step.
func backoff(base time.Duration, failures int, max time.Duration) time.Duration {
	d := base
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// ErrLocked reports that another process is syncing the source.
var ErrLocked = errors.New("source is being synced by another process")

// Result is what one pass did.
type Result struct {
	RunID  int64
	Counts store.BatchCounts
	Status store.SourceStatus
	// Reset reports that the source rejected the cursor during the pass.
	Reset bool
	// Repulled reports that the pass was a complete re-pull, and
	// Reconciled the records it then removed because the source no
	// longer holds them (by record type).
	Repulled   bool
	Reconciled store.Reconciled
	// Took is how long the pass ran (in SyncOnce, not counting the wait
	// of a backfilling source for the source it backfills).
	Took time.Duration
}

// SyncOnce runs one pass of the named source (all sources if name is
// empty), for cron-style deployments, and then builds the indexes a first
// load deferred (SyncPasses, then BuildDeferred).
func (e *Engine) SyncOnce(ctx context.Context, name string, full bool) (map[string]Result, error) {
	out, err := e.SyncPasses(ctx, name, full)
	if out == nil { // refused before any pass
		return nil, err
	}
	return out, errors.Join(err, e.BuildDeferred(ctx))
}

// SyncPasses is SyncOnce leaving the indexes a first load deferred to the
// caller's BuildDeferred: hub sync builds them once its resolution has
// done with the cases, beside the rest of it (app). The result is nil
// when the passes were refused before any ran.
func (e *Engine) SyncPasses(ctx context.Context, name string, full bool) (map[string]Result, error) {
	if err := e.Register(ctx); err != nil {
		return nil, err
	}
	out := map[string]Result{}
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	var selected []Source
	for _, s := range e.sources {
		if name == "" || s.Connector.Describe().Name == name {
			selected = append(selected, s)
		}
	}
	// Sources are independent: their passes run side by side, except that
	// a backfilling source's waits for the pass of the source it backfills.
	if len(selected) == 0 {
		return nil, canon.Errorf(canon.NotFound, "no source named %q", name)
	}
	first := e.firstPasses(selected)
	e.deferIndexes(ctx)
	for _, s := range selected {
		d := s.Connector.Describe()
		n := d.Name
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.afterBackfilled(ctx, d, first)
			res, err := e.Pass(ctx, s.Connector, full)
			if p, ok := first[n]; ok {
				p.end(res)
			}
			mu.Lock()
			defer mu.Unlock()
			out[n] = res
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", n, err))
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// Pass synchronises every stream of one source once, under its lock.
func (e *Engine) Pass(ctx context.Context, c connectors.Connector, full bool) (Result, error) {
	t := time.Now()
	res, err := e.pass(ctx, c, full)
	res.Took = time.Since(t)
	return res, err
}

func (e *Engine) pass(ctx context.Context, c connectors.Connector, full bool) (Result, error) {
	d := c.Describe()
	lock, err := e.store.TryLockSourceAs(ctx, d.Name, e.opts.Holder)
	if err != nil {
		return Result{}, err
	}
	if lock == nil {
		return Result{}, ErrLocked
	}
	defer lock.Release()

	start := time.Now()
	// A re-pull owed since a reset (and interrupted) starts again.
	pending, err := e.store.ResyncPending(ctx, d.Name)
	if err != nil {
		return Result{}, err
	}
	if pending {
		e.opts.NotReady(d.Name, "source reset detected: complete re-pull running")
	}
	runID, err := lock.StartRun(ctx, full || pending)
	if err != nil {
		return Result{}, err
	}
	res := Result{RunID: runID}
	var passErr error
	if full || pending {
		passErr = e.repull(ctx, lock, c, d, runID, &res)
	} else {
		passErr = e.pullAll(ctx, lock, c, d, runID, false, &res.Counts, nil)
		if errors.Is(passErr, connectors.ErrCursorRejected) {
			passErr = e.recoverReset(ctx, lock, c, d, runID, passErr, &res)
		}
	}
	// The run is closed even when ctx ended: a shutdown must not leave it RUNNING.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	status, err := lock.FinishRun(fctx, runID, store.RunOutcome{Err: passErr, DownAfter: e.opts.DownAfter})
	if err != nil {
		return res, errors.Join(passErr, err)
	}
	res.Status = status
	e.metrics.run(d.Name, status, time.Since(start))
	if passErr == nil {
		e.opts.Log.Info("sync pass done", "source", d.Name, "run", runID, "fetched", res.Counts.Fetched,
			"stored", res.Counts.Stored, "quarantined", res.Counts.Quarantined, "unchanged", res.Counts.Unchanged,
			"deleted", res.Counts.Deleted, "duration", time.Since(start).String())
	}
	return res, passErr
}

// recoverReset answers a source that rejected the cursor: the reset is
// recorded on the source (its status shows it, and the re-pull is owed
// until one completes, across restarts), the source is not ready, and a
// complete re-pull runs at once.
func (e *Engine) recoverReset(ctx context.Context, lock *store.SourceLock, c connectors.Connector, d connectors.Description, runID int64, cause error, res *Result) error {
	res.Reset = true
	e.metrics.resets.WithLabelValues(d.Name).Inc()
	e.opts.Log.Warn("source rejected the cursor: it was reset, restored or renumbered; re-pulling it completely",
		"source", d.Name, "run", runID, "err", cause)
	e.opts.NotReady(d.Name, "source reset detected: complete re-pull running")
	if err := lock.MarkReset(ctx, runID, cause.Error()); err != nil {
		return errors.Join(cause, err)
	}
	return e.repull(ctx, lock, c, d, runID, res)
}

// repull reads every stream of a source from the beginning and then
// reconciles: records the store holds from the source that the re-pull
// did not see are deleted — only once every stream was read to its end,
// so an interrupted re-pull deletes nothing (and stays owed). Sources of
// history, and backfilling channels, keep what they no longer deliver.
// After deletions a source's backfilling channels read their files again,
// so that history only they hold comes back.
func (e *Engine) repull(ctx context.Context, lock *store.SourceLock, c connectors.Connector, d connectors.Description, runID int64, res *Result) error {
	res.Repulled = true
	start := time.Now()
	seen := newSeenSet()
	if err := e.pullAll(ctx, lock, c, d, runID, true, &res.Counts, seen); err != nil {
		return fmt.Errorf("complete re-pull (nothing reconciled): %w", err)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	var rec store.Reconciled
	err := lock.InRun(wctx, runID, func(w *store.Writer) error {
		if d.History || d.Backfills != "" {
			return w.ClearResync(wctx, d.Name)
		}
		var err error
		if rec, err = w.Reconcile(wctx, runID, d.Name, seen.result()); err != nil {
			return err
		}
		if len(rec[canon.RecordCase]) > 0 {
			for _, b := range e.backfilledBy[d.Name] {
				if err := w.ResetCursors(wctx, b); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reconcile after complete re-pull: %w", err)
	}
	res.Reconciled = rec
	deleted := 0
	attrs := []any{"source", d.Name, "run", runID, "fetched", res.Counts.Fetched, "duration", time.Since(start).String()}
	for typ, ids := range rec {
		deleted += len(ids)
		attrs = append(attrs, "deleted_"+string(typ), len(ids))
	}
	res.Counts.Deleted += deleted
	e.metrics.records.WithLabelValues(d.Name, "deleted").Add(float64(deleted))
	e.opts.Log.Info("complete re-pull reconciled", append(attrs, "deleted", deleted)...)
	return nil
}

// seenSet gathers what a complete re-pull read. A quarantined record still
// exists in the source, so its id counts as seen for the record types its
// stream delivers (ids are unique per type, not across types); for the
// types of every stream when its stream delivered nothing else.
type seenSet struct {
	mu      sync.Mutex
	records map[canon.RecordType][]string
	streams map[string]*seenStream
}

type seenStream struct {
	types       map[canon.RecordType]bool
	quarantined []string
}

func newSeenSet() *seenSet {
	return &seenSet{records: map[canon.RecordType][]string{}, streams: map[string]*seenStream{}}
}

func (s *seenSet) add(stream string, b connectors.Batch) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[stream]
	if st == nil {
		st = &seenStream{types: map[canon.RecordType]bool{}}
		s.streams[stream] = st
	}
	for _, r := range b.Records {
		if typ, id, ok := store.RecordKey(r); ok {
			s.records[typ] = append(s.records[typ], id)
			st.types[typ] = true
		}
	}
	for _, t := range b.Tombstones {
		st.types[t.Type] = true
	}
	for _, q := range b.Quarantine {
		if q.SourceID != "" {
			st.quarantined = append(st.quarantined, q.SourceID)
		}
	}
}

func (s *seenSet) result() store.Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := store.Seen{Records: map[canon.RecordType][]string{}}
	for typ, ids := range s.records {
		out.Records[typ] = ids
	}
	for _, st := range s.streams {
		if len(st.types) == 0 {
			out.Quarantined = append(out.Quarantined, st.quarantined...)
			continue
		}
		for typ := range st.types {
			out.Records[typ] = append(out.Records[typ], st.quarantined...)
		}
	}
	return out
}

// pullAll walks every stream from its cursor until the source has no more;
// a full pull starts every stream from the beginning and tells seen what
// it committed.
func (e *Engine) pullAll(ctx context.Context, lock *store.SourceLock, c connectors.Connector, d connectors.Description, runID int64, full bool, total *store.BatchCounts, seen *seenSet) error {
	for _, stream := range d.Streams {
		cursor := ""
		if !full {
			var err error
			if cursor, err = e.store.Cursor(ctx, d.Name, stream); err != nil {
				return err
			}
		}
		if err := e.pullStream(ctx, lock, c, d.Name, stream, cursor, runID, total, seen); err != nil {
			return err
		}
	}
	return nil
}

// gathered is a batch read from a source, with the error that ended the
// reading after it, if one did.
type gathered struct {
	batch connectors.Batch
	last  bool // the stream's end: committed even if empty, for its cursor
	err   error
}

// pullStream reads one stream and writes it, the two side by side: while a
// batch is committed the next one is fetched and mapped, so neither the
// source nor the store waits for the other. Batches are committed in the
// order read, each with its own cursor, so a crash at any point leaves the
// stream at the cursor of the last committed batch, as without the overlap.
func (e *Engine) pullStream(ctx context.Context, lock *store.SourceLock, c connectors.Connector, source, stream, cursor string, runID int64, total *store.BatchCounts, seen *seenSet) error {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	batches := make(chan gathered, 1)
	go func() {
		defer close(batches)
		e.gather(rctx, c, source, stream, cursor, batches)
	}()
	var failed error
	for g := range batches {
		if failed != nil {
			continue // drain: the reader stops at its next page
		}
		if g.batch.Fetched > 0 || g.last {
			// Keep what was read, even before a failure.
			if _, err := e.commitCounted(ctx, lock, source, stream, runID, g.batch, total); err != nil {
				failed = errors.Join(g.err, err)
				stop()
				continue
			}
			if seen != nil {
				seen.add(stream, g.batch)
			}
		}
		if g.err != nil {
			failed = g.err
			stop()
		}
	}
	return failed
}

// gather pulls pages of a stream from cursor and sends them gathered into
// batches of about BatchSize records: sources page in hundreds, and a
// transaction per page would spend most of its time on per-statement
// overhead. The last value sent carries the error that stopped it, if any.
func (e *Engine) gather(ctx context.Context, c connectors.Connector, source, stream, cursor string, out chan<- gathered) {
	var acc connectors.Batch
	for {
		b, err := c.Pull(ctx, connectors.Request{Stream: stream, Cursor: cursor, Full: cursor == "", Limit: e.opts.PageSize})
		if err != nil {
			out <- gathered{batch: acc, err: fmt.Errorf("pull %s: %w", stream, err)}
			return
		}
		if n := len(b.Records) + len(b.Tombstones) + len(b.Quarantine); n != b.Fetched {
			out <- gathered{err: fmt.Errorf("connector %s/%s broke its contract: fetched %d but returned %d outcomes", source, stream, b.Fetched, n)}
			return
		}
		acc.Records = append(acc.Records, b.Records...)
		acc.Tombstones = append(acc.Tombstones, b.Tombstones...)
		acc.Quarantine = append(acc.Quarantine, b.Quarantine...)
		acc.Fetched += b.Fetched
		acc.Next = b.Next
		cursor = b.Next
		if !b.More {
			out <- gathered{batch: acc, last: true}
			return
		}
		if err := ctx.Err(); err != nil {
			out <- gathered{batch: acc, err: err}
			return
		}
		if acc.Fetched >= e.opts.BatchSize {
			out <- gathered{batch: acc}
			acc = connectors.Batch{}
		}
	}
}

// commitCounted commits a batch and adds its counts to the run's.
func (e *Engine) commitCounted(ctx context.Context, lock *store.SourceLock, source, stream string, runID int64, b connectors.Batch, total *store.BatchCounts) (store.BatchCounts, error) {
	counts, err := e.commit(ctx, lock, source, stream, runID, b)
	if err != nil {
		return counts, err
	}
	e.metrics.batch(source, counts)
	total.Fetched += counts.Fetched
	total.Stored += counts.Stored
	total.Quarantined += counts.Quarantined
	total.Unchanged += counts.Unchanged
	total.Deleted += counts.Deleted
	total.FieldDefects += counts.FieldDefects
	total.RecordsWithFieldDefects += counts.RecordsWithFieldDefects
	return counts, nil
}

// fieldQuarantine turns the field defects of stored records (values of
// optional fields the records are stored without) into field-level
// quarantine entries, and counts the records that have any.
func fieldQuarantine(stream string, records []any) ([]store.QuarantineEntry, int) {
	var out []store.QuarantineEntry
	n := 0
	for _, r := range records {
		p, ok := r.(interface{ Prov() *canon.Provenance })
		if !ok || len(p.Prov().FieldDefects) == 0 {
			continue
		}
		n++
		prov := p.Prov()
		for _, d := range prov.FieldDefects {
			// One entry per record, field and value: the key of a
			// field-level entry hashes the field and value, not the record.
			key := d.Key
			if key == nil {
				key = append(append([]byte(d.Field), 0), d.Raw...)
			}
			out = append(out, store.QuarantineEntry{Stream: stream, SourceID: prov.SourceID, Reason: d.Reason, Field: d.Field,
				Message: d.Message, Raw: d.Raw, Hash: connectors.PayloadHash(key), RecordStored: true})
		}
	}
	return out, n
}

// batchAttempts is how often a batch rolled back by a deadlock or a
// serialization conflict is written before its pass fails.
const batchAttempts = 4

// commit writes one batch with its cursor in one transaction. A batch whose
// write has begun is finished even if ctx is cancelled meanwhile (shutdown):
// it commits or rolls back, never half.
func (e *Engine) commit(ctx context.Context, lock *store.SourceLock, source, stream string, runID int64, b connectors.Batch) (store.BatchCounts, error) {
	if n := len(b.Records) + len(b.Tombstones) + len(b.Quarantine); n != b.Fetched {
		return store.BatchCounts{}, fmt.Errorf("connector %s/%s broke its contract: fetched %d but returned %d outcomes", source, stream, b.Fetched, n)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var counts store.BatchCounts
	write := func() error {
		return lock.InRun(wctx, runID, func(w *store.Writer) error {
			counts = store.BatchCounts{Fetched: b.Fetched}
			write := w.Upsert
			if e.backfills[source] {
				write = w.Backfill
			}
			res, err := write(wctx, b.Records)
			if err != nil {
				return err
			}
			counts.Unchanged = res.Unchanged
			byType := map[canon.RecordType][]string{}
			for _, t := range b.Tombstones {
				byType[t.Type] = append(byType[t.Type], t.SourceID)
			}
			for typ, ids := range byType {
				n, err := w.Delete(wctx, typ, source, ids)
				if err != nil {
					return err
				}
				counts.Deleted += n
			}
			// A tombstone of a record the store no longer holds changes
			// nothing: it counts as unchanged, so that a pass that wrote
			// nothing has stored = unchanged + deleted.
			counts.Unchanged += len(b.Tombstones) - counts.Deleted
			q := make([]store.QuarantineEntry, len(b.Quarantine))
			for i, e := range b.Quarantine {
				q[i] = store.QuarantineEntry{Stream: e.Stream, SourceID: e.SourceID, Reason: string(e.Reason),
					Field: e.Field, Message: e.Message, Raw: e.Raw, Hash: connectors.PayloadHash(e.Raw)}
			}
			fq, withDefects := fieldQuarantine(stream, b.Records)
			if err := w.Quarantine(wctx, runID, source, append(q, fq...)); err != nil {
				return err
			}
			counts.Quarantined = len(b.Quarantine)
			counts.FieldDefects, counts.RecordsWithFieldDefects = len(fq), withDefects
			counts.Stored = len(b.Records) + len(b.Tombstones)
			return w.CommitBatch(wctx, runID, source, stream, b.Next, counts)
		})
	}
	// A batch chosen as a deadlock's victim (the hub's resolution passes
	// update persons and cases beside the sync) was rolled back whole:
	// write it again, a few times, before the pass fails.
	err := write()
	for attempt := 1; attempt < batchAttempts && store.IsTransient(err) && wctx.Err() == nil; attempt++ {
		e.opts.Log.Info("write batch rolled back by the database; writing it again", "source", source, "stream", stream,
			"attempt", attempt+1, "error", err.Error())
		time.Sleep(time.Duration(attempt*attempt) * 50 * time.Millisecond)
		err = write()
	}
	if err != nil {
		return store.BatchCounts{}, fmt.Errorf("write batch of %s/%s: %w", source, stream, err)
	}
	return counts, nil
}
