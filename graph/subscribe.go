package graph

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
)

// Feed follows the store's change log for one hub: it gives positions to
// committed changes (any replica may; the database serialises them), prunes
// what retention has passed, and wakes the subscriptions when the log or a
// source's status moves. Subscriptions read the log themselves from their
// own position, so a slow or reconnecting subscriber misses nothing and
// sees nothing twice: the log, not a buffer, is what they follow.
type Feed struct {
	store     *store.Store
	log       *slog.Logger
	retention time.Duration
	// MaxPerPrincipal bounds the open subscriptions of one principal.
	maxPerPrincipal int
	// SendTimeout is how long a subscriber may leave a change unread
	// before it is ended with SLOW_CONSUMER and its last position.
	sendTimeout time.Duration
	recheck     time.Duration

	poke chan struct{}

	mu      sync.Mutex
	head    int64
	moved   chan struct{} // closed when head or sources move
	sources map[string]*store.Source
	// ring holds the log entries after ringFrom that the feed has read,
	// oldest first (once ringInit).
	ring     []store.Change
	ringFrom int64
	ringInit bool
	// typeMoved are closed when a change of their type enters the ring.
	typeMoved map[string]chan struct{}
	open      map[string]int // subscriptions per principal
	live      atomic.Int64
	// parked are the subscriptions without a goroutine that wait for a
	// change of their type ("": of any type), woken like typeMoved and
	// moved; recheckParked checks their credentials.
	parked   map[string]map[*subscription]struct{}
	sweeping atomic.Bool // recheckParked runs
}

// FeedOptions tune NewFeed.
type FeedOptions struct {
	Retention       time.Duration // default 30 days
	MaxPerPrincipal int           // default 100
	SendTimeout     time.Duration // default 30s
	// Recheck is how often subscriptions re-check their connection's
	// credentials; default 10s (within the key cache time of 30s).
	Recheck time.Duration
	Log     *slog.Logger
}

// NewFeed returns a feed over st; Run drives it.
func NewFeed(st *store.Store, o FeedOptions) *Feed {
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.MaxPerPrincipal <= 0 {
		o.MaxPerPrincipal = 100
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Recheck <= 0 {
		o.Recheck = 10 * time.Second
	}
	return &Feed{store: st, log: o.Log, retention: o.Retention, maxPerPrincipal: o.MaxPerPrincipal,
		sendTimeout: o.SendTimeout, recheck: o.Recheck, poke: make(chan struct{}, 1), moved: make(chan struct{}), typeMoved: map[string]chan struct{}{},
		open: map[string]int{}, parked: map[string]map[*subscription]struct{}{}}
}

// Run follows the change notifications until ctx ends.
func (f *Feed) Run(ctx context.Context) {
	ctx = store.Unscoped(ctx)
	go f.store.FollowChangeLog(ctx, time.Second, func() {
		select {
		case f.poke <- struct{}{}:
		default:
		}
	})
	prune := time.NewTicker(min(f.retention/10, 10*time.Minute))
	defer prune.Stop()
	recheck := time.NewTicker(f.recheck)
	defer recheck.Stop()
	vacuum := time.NewTicker(time.Minute)
	defer vacuum.Stop()
	f.prune(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-prune.C:
			f.prune(ctx)
		case <-vacuum.C:
			if err := f.store.VacuumChangeQueue(ctx); err != nil {
				f.log.Warn("change log: vacuum of the queue failed", "error", err.Error())
			}
		case <-f.poke:
			f.step(ctx)
		case <-recheck.C:
			if !f.sweeping.Swap(true) {
				go f.recheckParked(ctx)
			}
		}
	}
}

// Subscriptions returns how many subscriptions are open.
func (f *Feed) Subscriptions() int64 { return f.live.Load() }

func (f *Feed) prune(ctx context.Context) {
	n, err := f.store.PruneChanges(ctx, time.Now().Add(-f.retention))
	if err != nil {
		f.log.Warn("change log: prune failed", "error", err.Error())
		return
	}
	if n > 0 {
		f.log.Info("change log pruned", "changes", n, "retention", f.retention.String())
	}
}

// step positions what committed and wakes the subscribers if anything moved.
func (f *Feed) step(ctx context.Context) {
	if _, err := f.store.SequenceChanges(ctx); err != nil {
		f.log.Warn("change log: sequencing failed", "error", err.Error())
		return
	}
	head, _, err := f.store.ChangeHead(ctx)
	if err != nil {
		f.log.Warn("change log: head", "error", err.Error())
		return
	}
	srcs, err := f.store.Sources(ctx)
	if err != nil {
		f.log.Warn("change log: sources", "error", err.Error())
		return
	}
	top := f.fill(ctx, head)
	var wake []*subscription
	defer func() {
		for _, s := range wake {
			s.wake()
		}
	}()
	f.mu.Lock()
	defer f.mu.Unlock()
	head = top
	moved := head != f.head
	if moved {
		// Wake the subscriptions of the types that moved only.
		i := sort.Search(len(f.ring), func(i int) bool { return f.ring[i].Position > f.head })
		for ; i < len(f.ring); i++ {
			t := f.ring[i].Type
			if ch, ok := f.typeMoved[t]; ok {
				close(ch)
				delete(f.typeMoved, t)
			}
			wake = f.unparkLocked(t, wake)
		}
		wake = f.unparkLocked("", wake)
	}
	next := make(map[string]*store.Source, len(srcs))
	for _, s := range srcs {
		next[s.Name] = s
		if old, ok := f.sources[s.Name]; !ok || old.Status != s.Status {
			moved = true
		}
	}
	f.head, f.sources = head, next
	if moved {
		close(f.moved)
		f.moved = make(chan struct{})
	}
}

// ringCap is how many recent log entries a feed keeps in memory for its
// subscriptions: a subscription within them reads no SQL to follow the log.
const ringCap = 50_000

// fill reads the log entries after the ring's last into the ring and
// returns the position up to which the ring holds the log.
func (f *Feed) fill(ctx context.Context, head int64) int64 {
	f.mu.Lock()
	if !f.ringInit {
		f.ringInit, f.ringFrom = true, head // follow from now
	}
	to := f.ringFrom
	if n := len(f.ring); n > 0 {
		to = f.ring[n-1].Position
	}
	f.mu.Unlock()
	for to < head {
		batch, err := f.store.ChangesAfter(ctx, to, 1000, nil)
		if err != nil || len(batch) == 0 {
			if err != nil {
				f.log.Warn("change log: read", "error", err.Error())
			}
			break
		}
		f.mu.Lock()
		f.ring = append(f.ring, batch...)
		if drop := len(f.ring) - ringCap; drop > 0 {
			f.ringFrom = f.ring[drop-1].Position
			f.ring = append(f.ring[:0:0], f.ring[drop:]...)
		}
		f.mu.Unlock()
		to = batch[len(batch)-1].Position
	}
	return to
}

// recent reads up to limit entries after position after of the given types
// from the ring; false when the ring does not reach back to after.
func (f *Feed) recent(after int64, limit int, types []string) ([]store.Change, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ringInit || after < f.ringFrom {
		return nil, false
	}
	i := sort.Search(len(f.ring), func(i int) bool { return f.ring[i].Position > after })
	var out []store.Change
	for ; i < len(f.ring) && len(out) < limit; i++ {
		if len(types) == 0 || slices.Contains(types, f.ring[i].Type) {
			out = append(out, f.ring[i])
		}
	}
	return out, true
}

// read is the subscriptions' log reader: the ring when it reaches back far
// enough, the store otherwise (a subscriber resuming from long ago).
func (f *Feed) read(ctx context.Context, after int64, limit int, types []string) ([]store.Change, error) {
	if out, ok := f.recent(after, limit, types); ok {
		return out, nil
	}
	return f.store.ChangesAfter(ctx, after, limit, types)
}

// wait returns a channel closed when the log moves with a change of one of
// types (any change when there are several or none): a subscription to one
// type sleeps through the changes of the others.
func (f *Feed) wait(types []string) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(types) != 1 {
		return f.moved
	}
	ch, ok := f.typeMoved[types[0]]
	if !ok {
		ch = make(chan struct{})
		f.typeMoved[types[0]] = ch
	}
	return ch
}

// parkKey is the key of the parked subscriptions of types.
func parkKey(types []string) string {
	if len(types) != 1 {
		return ""
	}
	return types[0]
}

// park registers s, whose goroutine is about to end, to be woken by the
// next change of its types; false if one came since moved was taken (from
// wait), and s must read again.
func (f *Feed) park(s *subscription, moved <-chan struct{}) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-moved:
		return false
	default:
	}
	k := parkKey(s.q.types)
	m := f.parked[k]
	if m == nil {
		m = map[*subscription]struct{}{}
		f.parked[k] = m
	}
	m[s] = struct{}{}
	return true
}

// unpark forgets a parked subscription.
func (f *Feed) unpark(s *subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := parkKey(s.q.types)
	delete(f.parked[k], s)
	if len(f.parked[k]) == 0 {
		delete(f.parked, k)
	}
}

// unparkLocked appends the subscriptions parked under k to wake and
// forgets them.
func (f *Feed) unparkLocked(k string, wake []*subscription) []*subscription {
	for s := range f.parked[k] {
		wake = append(wake, s)
	}
	delete(f.parked, k)
	return wake
}

// recheckParked checks the credentials of the parked subscriptions one
// after another and wakes those whose credentials no longer hold, to end
// them: waking them all at once would run thousands of goroutines for
// nothing every recheck.
func (f *Feed) recheckParked(ctx context.Context) {
	defer f.sweeping.Store(false)
	var all []*subscription
	f.mu.Lock()
	for _, m := range f.parked {
		for s := range m {
			all = append(all, s)
		}
	}
	f.mu.Unlock()
	for _, s := range all {
		if ctx.Err() != nil {
			return
		}
		if s.ctx.Err() != nil {
			continue
		}
		if err := s.check(s.ctx); err != nil {
			s.checked.Store(0)
			s.wake() // its stint checks again and ends it
			continue
		}
		s.checked.Store(time.Now().UnixNano())
	}
}

// state returns the head, the sources and a channel closed when either
// moves next.
func (f *Feed) state() (int64, map[string]*store.Source, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.head, f.sources, f.moved
}

// admit counts a new subscription of p against its limit.
func (f *Feed) admit(p *auth.Principal) (release func(), err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open[p.ID] >= f.maxPerPrincipal {
		return nil, canon.Errorf(canon.RateLimited, "at most %d open subscriptions per caller", f.maxPerPrincipal)
	}
	f.open[p.ID]++
	f.live.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.open[p.ID]--; f.open[p.ID] <= 0 {
				delete(f.open, p.ID)
			}
			f.live.Add(-1)
		})
	}, nil
}

// endError carries the error that ended a subscription to its last
// response (streamErrors).
type endError struct {
	mu   sync.Mutex
	err  error
	sent bool
}

type endErrorKey struct{}

// endWith records why the subscription of ctx ends.
func endWith(ctx context.Context, err error) {
	if e, ok := ctx.Value(endErrorKey{}).(*endError); ok {
		e.mu.Lock()
		if e.err == nil {
			e.err = err
		}
		e.mu.Unlock()
	}
}

// streamErrors is the extension that ends a subscription with an error:
// gqlgen ends a subscription stream when its channel closes, with no way
// to say why; the resolver records the reason (endWith) before it closes
// the channel, and the stream's last response carries it.
type streamErrors struct{}

var (
	_ graphql.HandlerExtension     = streamErrors{}
	_ graphql.OperationInterceptor = streamErrors{}
	_ graphql.ResponseInterceptor  = streamErrors{}
)

func (streamErrors) ExtensionName() string                   { return "StreamErrors" }
func (streamErrors) Validate(graphql.ExecutableSchema) error { return nil }
func (streamErrors) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, endErrorKey{}, &endError{}))
}

func (streamErrors) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil {
		return resp
	}
	e, ok := ctx.Value(endErrorKey{}).(*endError)
	if !ok {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil || e.sent {
		return nil
	}
	e.sent = true
	gerr := &gqlerror.Error{Message: canon.ErrorMessage(e.err), Extensions: map[string]any{"code": string(canon.ErrorCode(e.err))}}
	var ce *positionError
	if asPositionError(e.err, &ce) {
		gerr.Extensions["position"] = encodePosition(ce.position)
	}
	return &graphql.Response{Errors: gqlerror.List{gerr}}
}

// positionError is an error that ends a subscription, with the position of
// the last change it delivered (to resume from).
type positionError struct {
	err      error
	position int64
}

func (e *positionError) Error() string { return e.err.Error() }
func (e *positionError) Unwrap() error { return e.err }

func asPositionError(err error, out **positionError) bool {
	for err != nil {
		if p, ok := err.(*positionError); ok {
			*out = p
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// subscription is one follower of the log. Over a websocket of this
// package's transport it has no goroutine while it waits: the feed parks
// it and wakes it (a stint) when a change of its types arrives, every
// recheck, and when its context ends; elsewhere it runs in a goroutine of
// its own (run).
type subscription struct {
	r     *Resolver
	q     *changeQuery
	pos   int64
	keep  func(ctx context.Context, batch []*model.Change) ([]*model.Change, error) // nil: all
	out   chan *model.Change
	check func(ctx context.Context) error // re-checks the caller's credentials

	// Parked subscriptions only.
	ctx     context.Context
	pump    *streamPump
	release func()
	checked atomic.Int64 // when the credentials were last checked (Unix ns)
	mu      sync.Mutex
	running bool // a stint runs
	again   bool // woken while a stint ran
	ended   bool
}

// subscribe starts following the log for the caller of ctx from after
// (nil: from now) and returns the stream.
func (r *Resolver) subscribe(ctx context.Context, types []model.ChangeType, after *string, filter *model.ChangeFilter,
	keep func(context.Context, []*model.Change) ([]*model.Change, error)) (<-chan *model.Change, error) {
	if r.feed == nil {
		return nil, canon.Errorf(canon.Internal, "subscriptions are not available on this server")
	}
	q, err := r.newChangeQuery(ctx, types, filter)
	if err != nil {
		return nil, err
	}
	pos, err := decodePosition(after)
	if err != nil {
		return nil, err
	}
	if pos < 0 {
		head, _, _ := r.feed.state()
		if head == 0 {
			// The feed has not positioned anything yet: position what has
			// committed first, so that "from now" starts after every
			// change committed before the subscription (the head alone
			// would leave them behind it, to be delivered as new).
			if _, err := r.Store.SequenceChanges(ctx); err != nil {
				return nil, err
			}
			if head, _, err = r.Store.ChangeHead(ctx); err != nil {
				return nil, err
			}
		}
		pos = head
	} else if _, err := r.Store.ChangesAfter(ctx, pos, 1, nil); err != nil {
		return nil, err // CURSOR_EXPIRED before anything is sent
	}
	release, err := r.feed.admit(auth.From(ctx))
	if err != nil {
		return nil, err
	}
	s := &subscription{r: r, q: q, pos: pos, keep: keep, check: credentialCheck(ctx)}
	if p := pumpOf(ctx); p != nil && p.take() {
		s.out = make(chan *model.Change, 1) // next takes each item at once
		s.ctx, s.pump, s.release = ctx, p, release
		s.checked.Store(time.Now().UnixNano())
		context.AfterFunc(ctx, s.wake)
		s.wake()
		return s.out, nil
	}
	s.out = make(chan *model.Change)
	go func() {
		defer release()
		defer close(s.out)
		if err := s.run(ctx); err != nil && ctx.Err() == nil {
			endWith(ctx, err)
		}
	}()
	return s.out, nil
}

// run delivers changes until ctx ends or an error ends the subscription.
func (s *subscription) run(ctx context.Context) error {
	recheck := time.NewTicker(s.r.feed.recheck)
	defer recheck.Stop()
	for {
		moved := s.r.feed.wait(s.q.types)
		// No loaders: changesPageFrom makes fresh ones when it has a record
		// to load (the connection's would keep what they loaded for ever).
		list, end, more, err := s.r.changesPageFrom(ctx, s.r.feed.read, nil, s.q, s.pos, defaultChangesPage)
		if err != nil {
			return &positionError{err: err, position: s.pos}
		}
		if s.keep != nil && len(list) > 0 {
			if list, err = s.keep(ctx, list); err != nil {
				return &positionError{err: err, position: s.pos}
			}
		}
		for _, c := range list {
			timer := time.NewTimer(s.r.feed.sendTimeout)
			select {
			case s.out <- c:
				timer.Stop()
			case <-ctx.Done():
				timer.Stop()
				return nil
			case <-timer.C:
				return &positionError{err: canon.Errorf(canon.SlowConsumer,
					"a change went unread for %s; subscribe again with after set to the position in this error", s.r.feed.sendTimeout), position: s.pos}
			}
			p, _ := decodePosition(&c.Position)
			s.pos = p
		}
		s.pos = end
		if more {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-moved:
		case <-recheck.C:
			if err := s.check(ctx); err != nil {
				return &positionError{err: err, position: s.pos}
			}
		}
	}
}

// wake starts a stint of a parked subscription, or tells the one that
// runs to read again before it parks.
func (s *subscription) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	if s.running {
		s.again = true
		return
	}
	s.running = true
	go s.stint()
}

// stint delivers what the log holds for a parked subscription, then parks
// it again or ends it.
func (s *subscription) stint() {
	ctx := s.ctx
	for {
		s.mu.Lock()
		s.again = false
		s.mu.Unlock()
		if ctx.Err() != nil {
			s.end(nil)
			return
		}
		if time.Since(time.Unix(0, s.checked.Load())) >= s.r.feed.recheck {
			if err := s.check(ctx); err != nil {
				s.end(&positionError{err: err, position: s.pos})
				return
			}
			s.checked.Store(time.Now().UnixNano())
		}
		moved := s.r.feed.wait(s.q.types)
		list, end, more, err := s.r.changesPageFrom(ctx, s.r.feed.read, nil, s.q, s.pos, defaultChangesPage)
		if err == nil && s.keep != nil && len(list) > 0 {
			list, err = s.keep(ctx, list)
		}
		if err != nil {
			s.end(&positionError{err: err, position: s.pos})
			return
		}
		for _, c := range list {
			if ctx.Err() != nil {
				s.end(nil)
				return
			}
			// A write the client does not take blocks next; one that took
			// longer than the send timeout ends the subscription after it,
			// at the position of the change it sent.
			var late atomic.Bool
			timer := time.AfterFunc(s.r.feed.sendTimeout, func() { late.Store(true); s.release() })
			s.out <- c
			s.pump.next()
			timer.Stop()
			p, _ := decodePosition(&c.Position)
			s.pos = p
			if late.Load() {
				s.end(&positionError{err: canon.Errorf(canon.SlowConsumer,
					"a change went unread for %s; subscribe again with after set to the position in this error", s.r.feed.sendTimeout), position: s.pos})
				return
			}
		}
		s.pos = end
		if more {
			continue
		}
		s.mu.Lock()
		if !s.again && s.r.feed.park(s, moved) {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// end ends a parked subscription, with err unless its context ended.
func (s *subscription) end(err error) {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.r.feed.unpark(s)
	if err != nil && s.ctx.Err() == nil {
		endWith(s.ctx, err)
	}
	close(s.out)
	s.release()
	s.pump.end()
}

type credentialKey struct{}

// withCredentialCheck keeps how the caller of a connection authenticated,
// so that its subscriptions end when the credentials no longer hold (a
// revoked key, within the key cache time).
func withCredentialCheck(ctx context.Context, check func(context.Context) error) context.Context {
	return context.WithValue(ctx, credentialKey{}, check)
}

func credentialCheck(ctx context.Context) func(context.Context) error {
	if c, ok := ctx.Value(credentialKey{}).(func(context.Context) error); ok {
		return c
	}
	return func(context.Context) error { return nil }
}

// caseChanged follows the changes of the cases that match filter when they
// are read; deletions of cases in the caller's jurisdiction are delivered
// whatever the filter (the record is gone and cannot be matched).
func (r *Resolver) caseChanged(ctx context.Context, filter *model.CaseFilter, after *string) (<-chan *model.Change, error) {
	f, err := caseFilter(filter)
	if err != nil {
		return nil, err
	}
	keep := func(ctx context.Context, batch []*model.Change) ([]*model.Change, error) {
		if filter == nil {
			return batch, nil
		}
		ids := make([]int64, 0, len(batch))
		for _, c := range batch {
			if c.Node != nil {
				if id, err := idOf(c.RecordID, typeCase); err == nil {
					ids = append(ids, id)
				}
			}
		}
		match, err := r.Store.CasesMatching(ctx, f, ids)
		if err != nil {
			return nil, err
		}
		out := batch[:0]
		for _, c := range batch {
			id, _ := idOf(c.RecordID, typeCase)
			if c.Node == nil || match[id] {
				out = append(out, c)
			}
		}
		return out, nil
	}
	return r.subscribe(ctx, []model.ChangeType{model.ChangeTypeCase}, after, nil, keep)
}

// sourceStatusChanged sends a source each time its status changes.
func (r *Resolver) sourceStatusChanged(ctx context.Context) (<-chan *store.Source, error) {
	if r.feed == nil {
		return nil, canon.Errorf(canon.Internal, "subscriptions are not available on this server")
	}
	release, err := r.feed.admit(auth.From(ctx))
	if err != nil {
		return nil, err
	}
	out := make(chan *store.Source)
	check := credentialCheck(ctx)
	go func() {
		defer release()
		defer close(out)
		_, seen, moved := r.feed.state()
		recheck := time.NewTicker(r.feed.recheck)
		defer recheck.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-recheck.C:
				if err := check(ctx); err != nil {
					endWith(ctx, err)
					return
				}
				continue
			case <-moved:
			}
			var now map[string]*store.Source
			_, now, moved = r.feed.state()
			if seen == nil { // the feed's first look: nothing to compare with
				seen = now
				continue
			}
			for name, s := range now {
				if old, ok := seen[name]; ok && old.Status == s.Status {
					continue
				}
				select {
				case out <- s:
				case <-ctx.Done():
					return
				}
			}
			seen = now
		}
	}()
	return out, nil
}

type upgradeAuthKey struct{}

// withUpgradeCredentials keeps the Authorization header of a websocket
// upgrade for the connection's re-checks.
func withUpgradeCredentials(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get("Authorization"); h != "" && r.Header.Get("Upgrade") != "" {
			r = r.WithContext(context.WithValue(r.Context(), upgradeAuthKey{}, h))
		}
		next.ServeHTTP(w, r)
	})
}

// websocketInit authenticates a websocket connection: by the
// Authorization of its connection_init payload (what browsers can send;
// the same keys and JWTs as HTTP), else by its upgrade request's. Its
// subscriptions re-check those credentials every ten seconds, so a revoked
// key's subscriptions end within the key cache time.
func websocketInit(authenticate func(context.Context, string) (*auth.Principal, error)) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if authenticate == nil {
			return ctx, nil, nil
		}
		authz := payload.Authorization()
		if authz == "" {
			if p := auth.From(ctx); p != nil {
				h, _ := ctx.Value(upgradeAuthKey{}).(string)
				if h == "" {
					return ctx, nil, nil // anonymous by the upgrade: nothing to re-check
				}
				return withCredentialCheck(ctx, recheck(authenticate, h)), nil, nil
			}
		}
		p, err := authenticate(ctx, authz)
		if err != nil {
			return ctx, nil, fmt.Errorf("connection_init: %w", err)
		}
		ctx = auth.With(ctx, p)
		s := store.Scope{}
		if p.Role == auth.Staff || p.Role == auth.Partner {
			s.RegionCode = p.RegionCode
		}
		ctx = store.WithScope(ctx, s)
		return withCredentialCheck(ctx, recheck(authenticate, authz)), nil, nil
	}
}

func recheck(authenticate func(context.Context, string) (*auth.Principal, error), authz string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := authenticate(ctx, authz)
		if err != nil && canon.ErrorCode(err) != canon.StoreUnavailable {
			return canon.Errorf(canon.Unauthenticated, "the connection's credentials no longer hold: %s", canon.ErrorMessage(err))
		}
		return nil
	}
}
