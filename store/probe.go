package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Probe checks that the database answers, on a connection of its own: a
// pool busy with queries (or waiting for a connection) does not make the
// database look unreachable, and a database that is gone is seen even when
// every pooled connection is idle.
type Probe struct {
	cfg  *pgx.ConnConfig
	mu   sync.Mutex
	conn *pgx.Conn
}

// NewProbe returns a probe of the store's database; Close releases it.
func (s *Store) NewProbe() *Probe {
	cfg := s.connConfig.Copy()
	cfg.Tracer = nil // probes are not the API's SQL
	return &Probe{cfg: cfg}
}

// Ping connects if it has no connection and runs an empty statement; ctx
// bounds both. A failure drops the connection, so the next Ping connects
// afresh. Errors are STORE_UNAVAILABLE.
func (p *Probe) Ping(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == nil {
		cfg := p.cfg.Copy()
		if d, ok := ctx.Deadline(); ok {
			cfg.ConnectTimeout = time.Until(d)
		}
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return translate(fmt.Errorf("probe database: %w", err))
		}
		p.conn = c
	}
	if err := p.conn.Ping(ctx); err != nil {
		p.closeConn()
		return translate(fmt.Errorf("probe database: %w", err))
	}
	return nil
}

// Close closes the probe's connection.
func (p *Probe) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeConn()
}

func (p *Probe) closeConn() {
	if p.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = p.conn.Close(ctx)
	p.conn = nil
}
