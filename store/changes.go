package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChangeChannel is the notification channel every committed write to the
// hub's data notifies (migration 006: a statement trigger on each table but
// api_key and audit_log). A reference table's write says the table's name
// as payload, every other table's an empty one (migration 042).
const ChangeChannel = "hub_changed"

// Changes follows the database's change notifications. Its generation moves
// on every committed change anyone makes, on any replica; a cache keyed by
// the generation can never serve what was true before the change. While
// the listening connection is down the generation is not known (Current
// reports false), and when it is back the generation moves once more, for
// the changes that may have passed unseen.
type Changes struct {
	// state is the generation times two, plus one while the notifications
	// are followed: one word, so that a reader never pairs a generation
	// with a liveness it did not have.
	state atomic.Uint64
	// reference is the generation of the reference tables (region,
	// category): it moves on their changes, and with state whenever the
	// notifications are lost or followed again.
	reference atomic.Uint64
	// listening is closed once the first LISTEN is in place.
	listening chan struct{}
}

// Current returns the generation, and whether it is known: false while the
// notifications are not followed (before the first LISTEN, after a lost
// connection).
func (c *Changes) Current() (uint64, bool) {
	s := c.state.Load()
	return s >> 1, s&1 == 1
}

// ReferenceCurrent returns the generation of the reference tables (region,
// category), and whether it is known. It moves only when one of them
// changes (or the notifications were lost), so that what is held of them
// outlives the sync's writes to the data.
func (c *Changes) ReferenceCurrent() (uint64, bool) {
	live := c.state.Load()&1 == 1
	return c.reference.Load(), live
}

// Listening is closed once the notifications are followed for the first
// time.
func (c *Changes) Listening() <-chan struct{} { return c.listening }

// bump moves the generation, and the reference tables' with it.
func (c *Changes) bump() {
	c.reference.Add(1)
	c.state.Add(2)
}

// setLive records whether the notifications are followed.
func (c *Changes) setLive(live bool) {
	if live {
		c.state.Or(1)
	} else {
		c.state.And(^uint64(1))
	}
}

// WatchChanges follows the change notifications on a connection of its own
// (not one of the pool's) until ctx ends, reconnecting with backoff when the
// connection is lost.
func (s *Store) WatchChanges(ctx context.Context) *Changes {
	c := &Changes{listening: make(chan struct{})}
	go s.watchChanges(ctx, c)
	return c
}

func (s *Store) watchChanges(ctx context.Context, c *Changes) {
	var once bool
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listen(ctx, c, func() {
			if !once {
				once = true
				close(c.listening)
			}
			backoff = 100 * time.Millisecond
		})
		c.setLive(false)
		c.bump()
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("change notifications lost; caches are bypassed until they are back", slog.String("error", err.Error()), slog.Duration("retry_in", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// listen holds one LISTEN connection until it fails or ctx ends.
func (s *Store) listen(ctx context.Context, c *Changes, up func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.connConfig.Copy())
	if err != nil {
		return fmt.Errorf("change notifications: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+ChangeChannel); err != nil {
		return fmt.Errorf("change notifications: listen: %w", err)
	}
	// Whatever changed before the LISTEN took effect is behind this bump.
	c.bump()
	c.setLive(true)
	up()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("change notifications: wait: %w", err)
		}
		if n.Payload != "" {
			c.bump()
		} else {
			c.state.Add(2)
		}
	}
}
