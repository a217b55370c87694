package store

import (
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// queueExec queues a statement in b whose error names what it writes;
// fn (nil: none) receives its command tag.
func queueExec(b *pgx.Batch, what, sql string, fn func(pgconn.CommandTag), args ...any) {
	b.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if fn != nil {
			fn(tag)
		}
		return nil
	}
}

// queueQuery queues a statement in b whose rows fn reads and whose error
// names what it writes.
func queueQuery(b *pgx.Batch, what, sql string, fn func(pgx.Rows) error, args ...any) {
	b.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		defer rows.Close()
		if err := fn(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}
