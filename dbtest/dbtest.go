// Package dbtest gives tests real PostgreSQL databases: a fresh empty one, or
// a fresh one cloned from a migrated template (cheap: CREATE DATABASE …
// TEMPLATE). The server is DATABASE_URL when set — tests create and drop
// databases named hubtest_* there, so its user needs CREATEDB — and otherwise
// an embedded cluster this test process starts and stops. Tests never skip
// for want of a database: no server and no binaries is a failure.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// dbtest imports store (for the migrations) and embedpg.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ywtg/hub/embedpg"
	"github.com/ywtg/hub/store"
)

// server is the test process's PostgreSQL server, started on first use.
type server struct {
	once    sync.Once
	err     error
	admin   string // DSN with rights to create databases
	cluster *embedpg.Cluster
	dir     string

	tmplOnce sync.Once
	tmplErr  error
	tmpl     string
}

var srv server // test-process scope; started lazily, stopped by Main

// Main runs the tests, then the given clean-ups, and stops the embedded
// cluster if one was started.
func Main(m *testing.M, after ...func()) {
	code := m.Run()
	for _, f := range after {
		f()
	}
	if srv.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := srv.cluster.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "dbtest: stop embedded postgres:", err)
		}
		cancel()
		os.RemoveAll(srv.dir)
	}
	os.Exit(code)
}

func (s *server) start() error {
	s.once.Do(func() {
		if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
			s.admin = dsn
			return
		}
		sweepStale()
		dir, err := os.MkdirTemp("", "hub-dbtest-")
		if err != nil {
			s.err = err
			return
		}
		// The server may run as another user (postgres, when tests run as
		// root): let it traverse the temporary directory.
		if err := os.Chmod(dir, 0o755); err != nil {
			s.err = err
			return
		}
		s.dir = dir
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := embedpg.Start(ctx, embedpg.Options{Dir: filepath.Join(dir, "pg"), Database: "postgres"})
		if err != nil {
			s.err = fmt.Errorf("dbtest: DATABASE_URL is unset and the embedded launcher failed: %w", err)
			return
		}
		s.cluster = c
		s.admin = c.DSN()
	})
	return s.err
}

// sweepStale stops and removes embedded clusters left by test processes
// that were killed (a timeout, ^C) before Main could stop them. A cluster
// whose owner still runs is left alone: its ownership lock is held.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "hub-dbtest-*"))
	for _, d := range dirs {
		// A directory just made may belong to a process that has not
		// taken its lock yet.
		if fi, err := os.Stat(d); err != nil || time.Since(fi.ModTime()) < 2*time.Minute {
			continue
		}
		lock, err := os.OpenFile(filepath.Join(d, "pg.lock"), os.O_RDWR, 0)
		if err != nil {
			continue
		}
		err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		lock.Close() // releases the probe lock; Start takes its own
		if err != nil {
			continue // a live test process owns it
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if c, err := embedpg.Start(ctx, embedpg.Options{Dir: filepath.Join(d, "pg"), Database: "postgres"}); err == nil && c.Owner() {
			_ = c.Stop(ctx)
		}
		cancel()
		os.RemoveAll(d)
	}
}

// AdminDSN returns the DSN of the test server's administrative connection.
func AdminDSN(tb testing.TB) string {
	tb.Helper()
	if err := srv.start(); err != nil {
		tb.Fatal(err)
	}
	return srv.admin
}

// EmptyDB creates a fresh empty database and returns its DSN; it is dropped
// when the test ends.
func EmptyDB(tb testing.TB) string {
	tb.Helper()
	return createDB(tb, "")
}

// NewDSN creates a fresh migrated database and returns its DSN.
func NewDSN(tb testing.TB) string {
	tb.Helper()
	if err := srv.start(); err != nil {
		tb.Fatal(err)
	}
	srv.tmplOnce.Do(func() { srv.tmpl, srv.tmplErr = ensureTemplate() })
	if srv.tmplErr != nil {
		tb.Fatal(srv.tmplErr)
	}
	return createDB(tb, srv.tmpl)
}

// NewStore opens a store on a fresh migrated database.
func NewStore(tb testing.TB) *store.Store {
	tb.Helper()
	st, _ := NewStoreDSN(tb)
	return st
}

// NewStoreDSN opens a store on a fresh migrated database and returns the
// database's DSN too, for code under test that connects by itself.
func NewStoreDSN(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dsn := NewDSN(tb)
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(st.Close)
	return st, dsn
}

// Pool opens a pgx pool on dsn, closed at test end.
func Pool(tb testing.TB, dsn string) *pgxpool.Pool {
	tb.Helper()
	p, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

func createDB(tb testing.TB, template string) string {
	tb.Helper()
	if err := srv.start(); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "hubtest_" + randomHex(6)
	conn, err := pgx.Connect(ctx, srv.admin)
	if err != nil {
		tb.Fatalf("dbtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	sql := "CREATE DATABASE " + name
	if template != "" {
		sql += " TEMPLATE " + template
	}
	// Copying a template fails while another session is connected to it
	// (another test process creating it); retry briefly.
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, sql)
		if err == nil || attempt == 50 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		tb.Fatalf("dbtest: %s: %v", sql, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, srv.admin)
		if err != nil {
			tb.Errorf("dbtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("dbtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(srv.admin, name)
}

// ensureTemplate creates, once per schema version and server, a migrated
// template database. Test processes running in parallel serialise on an
// advisory lock; a template left half-built by a killed process is rebuilt.
func ensureTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "hubtmpl_" + sum[:16]
	conn, err := pgx.Connect(ctx, srv.admin)
	if err != nil {
		return "", fmt.Errorf("dbtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(74210001)"); err != nil {
		return "", fmt.Errorf("dbtest: lock: %w", err)
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(74210001)")
	var ready *bool
	err = conn.QueryRow(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&ready)
	if err != nil && err != pgx.ErrNoRows {
		return "", fmt.Errorf("dbtest: look up template: %w", err)
	}
	if ready != nil && *ready {
		return name, nil
	}
	if ready != nil {
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			return "", fmt.Errorf("dbtest: drop half-built template: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("dbtest: create template: %w", err)
	}
	tc, err := pgx.Connect(ctx, withDatabase(srv.admin, name))
	if err != nil {
		return "", fmt.Errorf("dbtest: connect template: %w", err)
	}
	err = store.Migrate(ctx, tc)
	tc.Close(ctx)
	if err != nil {
		return "", fmt.Errorf("dbtest: migrate template: %w", err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE true"); err != nil {
		return "", fmt.Errorf("dbtest: mark template: %w", err)
	}
	return name, nil
}

func migrationsHash() (string, error) {
	h := sha256.New()
	fsys := store.Migrations()
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return "", err
		}
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func withDatabase(dsn, db string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + db
		return u.String()
	}
	// key=value form
	return dsn + " dbname=" + db
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// RefuseFirstWrite makes the database refuse the first statement of event
// (INSERT, UPDATE, DELETE) on table with a deadlock's error code, as when
// PostgreSQL picks that transaction as a deadlock's victim; later ones pass.
// A sequence counts the statements: the refused transaction rolls back its
// writes, not nextval.
func RefuseFirstWrite(tb testing.TB, st *store.Store, table, event string) {
	tb.Helper()
	name := "refuse_first_" + strings.ToLower(event) + "_" + strings.Trim(table, `"`)
	if _, err := st.Pool().Exec(context.Background(), `CREATE SEQUENCE `+name+`;
		CREATE FUNCTION `+name+`() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF nextval('`+name+`') = 1 THEN
				RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected';
			END IF;
			RETURN NULL;
		END $$;
		CREATE TRIGGER `+name+` AFTER `+event+` ON `+table+` FOR EACH STATEMENT EXECUTE FUNCTION `+name+`()`); err != nil {
		tb.Fatalf("refuse the first %s on %s: %v", event, table, err)
	}
}

// WritesSeen returns how many statements of event on table RefuseFirstWrite
// counted, the refused one included.
func WritesSeen(tb testing.TB, st *store.Store, table, event string) int {
	tb.Helper()
	name := "refuse_first_" + strings.ToLower(event) + "_" + strings.Trim(table, `"`)
	var n int
	if err := st.Pool().QueryRow(context.Background(), `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM `+name).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}
