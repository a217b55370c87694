package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/dbtest"
	"github.com/ywtg/hub/store"
	"github.com/ywtg/hub/store/storetest"
)

// Connection-level failures are told apart from errors of a statement:
// the first are STORE_UNAVAILABLE (retry), the others are not.
func TestIsUnavailable(t *testing.T) {
	// A real refused connection.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, refused := pgx.Connect(ctx, "postgres://hub@"+addr+"/hub?sslmode=disable&connect_timeout=2")
	if refused == nil {
		t.Fatal("connected to a closed port")
	}
	expired, cancelExpired := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelExpired()
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01", Severity: "FATAL"}, true},
		{"cannot connect now", fmt.Errorf("list cases: %w", &pgconn.PgError{Code: "57P03"}), true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, true},
		{"deadline waiting for a connection", fmt.Errorf("acquire: %w", expired.Err()), true},
		{"conn closed", pgconn.ErrConnClosed, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"no rows", pgx.ErrNoRows, false},
		{"not found", canon.Errorf(canon.NotFound, "case not found"), false},
		{"client went away", context.Canceled, false},
		{"nil", nil, false},
	} {
		if got := store.IsUnavailable(c.err); got != c.want {
			t.Errorf("%s: IsUnavailable = %v, want %v (%v)", c.name, got, c.want, c.err)
		}
	}
}

// The store's reads answer STORE_UNAVAILABLE when their deadline passes
// before the database answers, and the statement timeout of the pool's
// connections bounds reads on the server while writes are exempt.
func TestStatementTimeoutAndDeadlines(t *testing.T) {
	ctx := context.Background()
	st, dsn := timeoutStore(t)

	var setting string
	if err := st.Pool().QueryRow(ctx, "SHOW statement_timeout").Scan(&setting); err != nil || setting != "300ms" {
		t.Fatalf("statement_timeout of a pool connection: %q, %v", setting, err)
	}
	_, err := st.Pool().Exec(ctx, "SELECT pg_sleep(2)")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "57014" {
		t.Fatalf("a read past the statement timeout: %v, want 57014", err)
	}
	if !store.IsUnavailable(err) {
		t.Fatalf("statement timeout not classed unavailable: %v", err)
	}

	// Writes run without it: an upsert that waits 600ms for a row lock
	// held by another session commits.
	src := canon.Source{Name: "slow", Kind: canon.SourceREST, Description: "before"}
	if err := st.InTx(ctx, func(w *store.Writer) error { return w.UpsertSource(ctx, src) }); err != nil {
		t.Fatal(err)
	}
	raw := dbtest.Pool(t, dsn)
	tx, err := raw.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM source WHERE name = 'slow' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(600 * time.Millisecond)
		_ = tx.Commit(ctx)
	}()
	start := time.Now()
	src.Description = "after"
	if err := st.InTx(ctx, func(w *store.Writer) error { return w.UpsertSource(ctx, src) }); err != nil {
		t.Fatalf("a write transaction longer than the statement timeout: %v", err)
	}
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Fatalf("the write did not wait for the lock (%v)", waited)
	}
	if err := st.Pool().QueryRow(ctx, "SHOW statement_timeout").Scan(&setting); err != nil || setting != "300ms" {
		t.Fatalf("statement_timeout after a write transaction: %q, %v", setting, err)
	}

	// So do the writes of a sync pass, on the source lock's session, and
	// the session goes back to the pool with the timeout of reads.
	lock, err := st.TryLockSource(ctx, "slow")
	if err != nil || lock == nil {
		t.Fatalf("lock: %v", err)
	}
	tx, err = raw.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1 FROM source WHERE name = 'slow' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(600 * time.Millisecond)
		_ = tx.Commit(ctx)
	}()
	src.Description = "again"
	if err := lock.InTx(ctx, func(w *store.Writer) error { return w.UpsertSource(ctx, src) }); err != nil {
		t.Fatalf("a sync write longer than the statement timeout: %v", err)
	}
	lock.Release()
	for range 4 { // every pooled connection
		if err := st.Pool().QueryRow(ctx, "SELECT current_setting('statement_timeout')").Scan(&setting); err != nil || setting != "300ms" {
			t.Fatalf("statement_timeout after a sync pass: %q, %v", setting, err)
		}
	}

	// A read whose context expires (here the key lookup of every request
	// with an API key): STORE_UNAVAILABLE.
	dctx, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	_, err = st.APIKeyByHash(dctx, []byte("0123456789abcdef0123456789abcdef"))
	if canon.ErrorCode(err) != canon.StoreUnavailable {
		t.Fatalf("read with an expired deadline: %v (code %s), want STORE_UNAVAILABLE", err, canon.ErrorCode(err))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the translated error lost its cause: %v", err)
	}
}

// The reads of whole tables that entity resolution makes (every person
// record, every person, every located case) are internal work, exempt
// like writes from the statement timeout that bounds the API's reads: at
// city scale they take longer than a request may wait.
func TestWholeReadsOutlastTheStatementTimeout(t *testing.T) {
	ctx := context.Background()
	st, dsn := timeoutStore(t)
	storetest.SeedRegions(t, st)
	cases := storetest.MakeCases(3)
	li := storetest.Person("420606199001011235", "李四", "13900002222")
	cases[0].Reporter = &li
	storetest.SeedCases(t, st, cases)

	// Another session holds the tables for longer than the timeout.
	raw := dbtest.Pool(t, dsn)
	tx, err := raw.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE person_link, person, "case" IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	const held = 900 * time.Millisecond
	start := time.Now()
	time.AfterFunc(held, func() { _ = tx.Commit(ctx) })

	uctx := store.Unscoped(ctx)
	reads := map[string]func() (int, error){
		"person links":   func() (int, error) { l, err := st.PersonLinks(uctx); return len(l), err },
		"stored persons": func() (int, error) { p, err := st.StoredPersons(uctx); return len(p), err },
		"incident cases": func() (int, error) { c, err := st.IncidentCases(uctx, time.Time{}); return len(c), err },
		"recent incident cases": func() (int, error) {
			c, err := st.IncidentCases(uctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
			return len(c), err
		},
		"an API read": func() (int, error) {
			var n int
			err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM person`).Scan(&n)
			return n, err
		},
	}
	type outcome struct {
		name string
		n    int
		err  error
		took time.Duration
	}
	done := make(chan outcome, len(reads))
	for name, read := range reads {
		go func() {
			n, err := read()
			done <- outcome{name, n, err, time.Since(start)}
		}()
	}
	for range reads {
		o := <-done
		if o.name == "an API read" {
			var pe *pgconn.PgError
			if !errors.As(o.err, &pe) || pe.Code != "57014" {
				t.Errorf("an API read of a locked table: %v after %v, want the statement timeout", o.err, o.took)
			}
			continue
		}
		if o.err != nil || o.n == 0 {
			t.Errorf("%s: %d rows, %v after %v", o.name, o.n, o.err, o.took)
		} else if o.took < held-100*time.Millisecond {
			t.Errorf("%s answered after %v, before the lock held for %v was released", o.name, o.took, held)
		}
	}
	var setting string
	for range 4 {
		if err := st.Pool().QueryRow(ctx, "SELECT current_setting('statement_timeout')").Scan(&setting); err != nil || setting != "300ms" {
			t.Fatalf("statement_timeout after the whole reads: %q, %v", setting, err)
		}
	}
}

// Every session of the store keeps TCP keepalives of its own, so that
// PostgreSQL ends the sessions of a hub whose host died, and the locks they
// hold, within a minute; a database URL that sets them keeps its values.
func TestSessionsKeepTCPKeepalives(t *testing.T) {
	dsn := dbtest.NewDSN(t)
	ctx := context.Background()
	keepalives := func(st *store.Store) string {
		t.Helper()
		var idle, interval, count string
		if err := st.Pool().QueryRow(ctx, `SELECT current_setting('tcp_keepalives_idle'), current_setting('tcp_keepalives_interval'),
			current_setting('tcp_keepalives_count') WHERE inet_client_addr() IS NOT NULL`).Scan(&idle, &interval, &count); err != nil {
			t.Fatalf("keepalives of a TCP session: %v", err)
		}
		return idle + "/" + interval + "/" + count
	}
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var tcp bool
	if err := st.Pool().QueryRow(ctx, "SELECT inet_client_addr() IS NOT NULL").Scan(&tcp); err != nil {
		t.Fatal(err)
	}
	if !tcp {
		t.Skip("the test database is reached over a Unix socket, where PostgreSQL ignores keepalives")
	}
	// Several sessions at once: each its own connection.
	conns := make([]*pgxpool.Conn, 3)
	for i := range conns {
		if conns[i], err = st.Pool().Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range conns {
		c.Release()
	}
	for range 3 {
		if got := keepalives(st); got != "30/10/3" {
			t.Fatalf("keepalives of a pooled session (idle/interval/count): %s, want 30/10/3", got)
		}
	}
	own, err := store.Open(ctx, withParam(t, dsn, "tcp_keepalives_idle", "45"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if got := keepalives(own); got != "45/10/3" {
		t.Fatalf("keepalives of a session whose URL sets the idle time: %s, want 45/10/3", got)
	}
}

// Sessions plan without JIT compilation unless the database URL asks for it.
func TestSessionsPlanWithoutJITUnlessTheURLSetsIt(t *testing.T) {
	dsn := dbtest.NewDSN(t)
	ctx := context.Background()
	jit := func(dsn string) string {
		t.Helper()
		st, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var v string
		if err := st.Pool().QueryRow(ctx, `SELECT current_setting('jit')`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := jit(dsn); got != "off" {
		t.Fatalf("jit of a session: %s, want off", got)
	}
	if got := jit(withParam(t, dsn, "jit", "on")); got != "on" {
		t.Fatalf("jit of a session whose URL sets it on: %s", got)
	}
}

// timeoutStore opens a store on a fresh database whose pool's statement
// timeout is 300 ms, and returns it with the database's URL.
func timeoutStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	dsn := dbtest.NewDSN(t)
	st, err := store.Open(context.Background(), dsn, store.Options{StatementTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, dsn
}

// withParam returns the database URL dsn with a session setting.
func withParam(t *testing.T, dsn, name, value string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}
