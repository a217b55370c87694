package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// APIKey is a stored API key (its hash, never the key).
type APIKey struct {
	ID         int64
	Name       string
	Prefix     string
	Role       string
	RegionCode *string
	Scopes     []string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// CreateAPIKey stores a new key's hash and attributes.
func (s *Store) CreateAPIKey(ctx context.Context, k APIKey, hash []byte) (int64, error) {
	if k.Scopes == nil {
		k.Scopes = []string{}
	}
	ctx = Unscoped(ctx) // credentials, not the hub's data
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO api_key (name, key_hash, prefix, role, region_code, scopes, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, k.Name, hash, k.Prefix, k.Role, k.RegionCode, k.Scopes, k.ExpiresAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create api key: %w", err)
	}
	return id, nil
}

const apiKeyColumns = `id, name, prefix, role, region_code, scopes, created_at, expires_at, revoked_at, last_used_at`

func scanAPIKey(r pgx.Row) (*APIKey, error) {
	k := &APIKey{}
	err := r.Scan(&k.ID, &k.Name, &k.Prefix, &k.Role, &k.RegionCode, &k.Scopes, &k.CreatedAt, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt)
	return k, err
}

// APIKeys lists every key, newest first.
func (s *Store) APIKeys(ctx context.Context) ([]*APIKey, error) {
	ctx = Unscoped(ctx) // credentials, for the operator's command
	rows, err := s.pool.Query(ctx, "SELECT "+apiKeyColumns+" FROM api_key ORDER BY id DESC")
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*APIKey, error) { return scanAPIKey(r) })
}

// ErrKeyNotUsable is returned for unknown, revoked or expired keys; callers
// cannot tell which, by design.
var ErrKeyNotUsable = errors.New("api key unknown, revoked or expired")

// APIKeyByHash finds a usable key and records its use.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error) {
	ctx = Unscoped(ctx) // authentication comes before any principal
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `UPDATE api_key SET last_used_at = now()
		WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
		RETURNING `+apiKeyColumns, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrKeyNotUsable
	}
	if err != nil {
		return nil, fmt.Errorf("look up api key: %w", err)
	}
	return k, nil
}

// RevokeAPIKey revokes a key by id; false if there was no usable key.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, "UPDATE api_key SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", id)
	if err != nil {
		return false, fmt.Errorf("revoke api key: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
