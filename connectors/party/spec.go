package party

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
)

// Type is the `type:` of a party-building database source.
const Type = "party"

func init() { connectors.Register(Type, build) }

// Settings are a party source's own fields.
type Settings struct {
	// DSNEnv names the variable holding the database URL.
	DSNEnv string `yaml:"dsn_env"`
	// DSN is the database URL: DSNEnv's value, or set in code.
	DSN string `yaml:"-"`
	// Datum of station coordinates (default BD09).
	Datum canon.Datum `yaml:"datum"`
}

// Check implements connectors.Settings.
func (s *Settings) Check(getenv func(string) string) error {
	return errors.Join(connectors.Secret("dsn_env", s.DSNEnv, &s.DSN, getenv), connectors.CheckDatum(&s.Datum, canon.BD09))
}

// owned is a connector with the database pool it opened.
type owned struct {
	*Connector
	pool *pgxpool.Pool
}

// Close closes the pool.
func (c owned) Close() error { c.pool.Close(); return nil }

func build(ctx context.Context, src connectors.Source, s *Settings, d connectors.Deps) (connectors.Connector, error) {
	pool, err := pgxpool.New(ctx, s.DSN)
	if err != nil {
		from := "its database URL"
		if s.DSNEnv != "" {
			from = s.DSNEnv
		}
		return nil, fmt.Errorf("source %s: invalid database URL in %s", src.Name, from)
	}
	return owned{Connector: New(Config{Name: src.Name, Description: src.Description, Pool: pool, Datum: s.Datum, Keys: d.Keys,
		Layer: d.Layer, Times: d.Times, Now: d.Now}), pool: pool}, nil
}
