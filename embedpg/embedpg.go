// Package embedpg runs a private PostgreSQL cluster from the server binaries
// installed on the machine, for deployments and tests without DATABASE_URL.
//
// The cluster lives in one directory (by default $HUB_DATA_DIR/pg), listens on
// 127.0.0.1 only with a password generated at initdb time, and is reused on the
// next start. One process owns the cluster at a time: ownership is an flock on
// a lock file beside the data directory, so it is released by the kernel when
// the owner dies, even by SIGKILL. A new owner adopts a server left running by
// a killed owner, or removes a stale postmaster.pid and starts it again. Other
// processes on the same data directory (administrative subcommands) join the
// running server without owning it.
//
// PostgreSQL refuses to run as root; when the hub runs as root the server runs
// as the "postgres" system user, which must be able to reach the data directory.
//
// embedpg imports nothing from the hub.
package embedpg

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries are installed.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, pg_ctl) found on PATH or under /usr/lib/postgresql/*/bin: install PostgreSQL or set DATABASE_URL")

// superuser is the name of the cluster's bootstrap superuser.
const superuser = "hub"

// Options configure a cluster.
type Options struct {
	// Dir is the cluster data directory. Its parent holds the lock file,
	// the password file and the server log.
	Dir string
	// Database is created if missing; DSN points at it. Default "hub".
	Database string
	// BinDir overrides the search for server binaries.
	BinDir string
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// StartTimeout bounds initdb and server start. Default 60s.
	StartTimeout time.Duration
	// Port the server listens on when this process starts it; 0 picks a
	// free one. A server stopped and started again on the same Port keeps
	// its DSN (tests of clients that outlive their database).
	Port int
}

// Cluster is a running embedded PostgreSQL server.
type Cluster struct {
	dir      string
	binDir   string
	database string
	password string
	port     int
	owner    bool
	lock     *os.File
	cred     *syscall.Credential
	log      *slog.Logger
	timeout  time.Duration
	askPort  int
}

// Start brings the cluster up: it initialises the data directory on first
// use, adopts a server orphaned by a killed owner, recovers from a stale
// postmaster.pid, or joins a server owned by another live process.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.Dir == "" {
		return nil, errors.New("embedded postgres: no data directory")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: data directory: %w", err)
	}
	c := &Cluster{dir: dir, database: o.Database, log: o.Logger, timeout: o.StartTimeout, askPort: o.Port}
	if c.database == "" {
		c.database = "hub"
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.timeout == 0 {
		c.timeout = 60 * time.Second
	}
	if c.binDir, err = findBinDir(o.BinDir); err != nil {
		return nil, err
	}
	stateDir := filepath.Dir(dir)
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded postgres: create %s: %w", stateDir, err)
	}
	if err := c.acquire(); err != nil {
		return nil, err
	}
	if !c.owner {
		if err := c.join(ctx); err != nil {
			return nil, err
		}
		return c, nil
	}
	if err := c.startOwned(ctx); err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

// DSN returns the connection string of the cluster's database.
func (c *Cluster) DSN() string { return c.DSNFor(c.database) }

// DSNFor returns the connection string of another database of the cluster.
func (c *Cluster) DSNFor(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port is the TCP port the server listens on (127.0.0.1).
func (c *Cluster) Port() int { return c.port }

// Owner reports whether this process owns (and will stop) the server.
func (c *Cluster) Owner() bool { return c.owner }

// Stop shuts the server down if this process owns it, and releases the
// ownership lock. A joined cluster is left running.
func (c *Cluster) Stop(ctx context.Context) error {
	defer c.release()
	if !c.owner {
		return nil
	}
	c.log.Info("stopping embedded postgres", "dir", c.dir)
	if err := c.pgctl(ctx, "stop", "-D", c.dir, "-m", "fast", "-w", "-t", "60"); err != nil {
		return fmt.Errorf("embedded postgres: stop: %w", err)
	}
	return nil
}

func (c *Cluster) stateDir() string     { return filepath.Dir(c.dir) }
func (c *Cluster) lockPath() string     { return c.dir + ".lock" }
func (c *Cluster) passwordPath() string { return c.dir + ".password" }
func (c *Cluster) logPath() string      { return filepath.Join(c.dir, "server.log") }

// acquire takes the ownership lock, or notes that another process holds it.
func (c *Cluster) acquire() error {
	f, err := os.OpenFile(c.lockPath(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("embedded postgres: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil // owned by a live process: join it
		}
		return fmt.Errorf("embedded postgres: lock %s: %w", c.lockPath(), err)
	}
	c.lock, c.owner = f, true
	return nil
}

func (c *Cluster) release() {
	if c.lock != nil {
		_ = syscall.Flock(int(c.lock.Fd()), syscall.LOCK_UN)
		c.lock.Close()
		c.lock = nil
	}
}

// join connects to a server owned by another live process.
func (c *Cluster) join(ctx context.Context) error {
	c.log.Info("joining embedded postgres owned by another process", "dir", c.dir)
	pw, err := os.ReadFile(c.passwordPath())
	if err != nil {
		return fmt.Errorf("embedded postgres: read password of running cluster: %w", err)
	}
	c.password = strings.TrimSpace(string(pw))
	deadline := time.Now().Add(c.timeout)
	for {
		pid, err := readPidFile(c.dir)
		if err == nil && pid.status == "ready" && pid.port > 0 {
			c.port = pid.port
			return c.ping(ctx)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("embedded postgres: cluster in %s is owned by another process but not ready after %s", c.dir, c.timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *Cluster) startOwned(ctx context.Context) error {
	if err := c.prepareUser(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	pw, err := os.ReadFile(c.passwordPath())
	if err != nil {
		return fmt.Errorf("embedded postgres: read password file (remove %s to start afresh): %w", c.dir, err)
	}
	c.password = strings.TrimSpace(string(pw))

	adopted, err := c.adoptOrphan(ctx)
	if err != nil {
		return err
	}
	if !adopted {
		if err := c.startServer(ctx); err != nil {
			return err
		}
	}
	return c.ensureDatabase(ctx)
}

// adoptOrphan handles a postmaster.pid left behind by a previous owner. A
// server that still runs and answers is adopted; a dead or unresponsive one is
// cleaned up so that a fresh start can follow.
func (c *Cluster) adoptOrphan(ctx context.Context) (bool, error) {
	pid, err := readPidFile(c.dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		c.log.Warn("embedded postgres: unreadable postmaster.pid, removing", "err", err)
		return false, c.removePidFile()
	}
	if !isPostgresProcess(pid.pid) {
		c.log.Warn("embedded postgres: removing stale postmaster.pid", "pid", pid.pid)
		return false, c.removePidFile()
	}
	if pid.status == "ready" && pid.port > 0 {
		c.port = pid.port
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := c.ping(pctx)
		cancel()
		if err == nil {
			c.log.Info("embedded postgres: adopted server left running by a previous hub", "pid", pid.pid, "port", pid.port)
			return true, nil
		}
		c.log.Warn("embedded postgres: orphaned server does not answer, restarting it", "pid", pid.pid, "err", err)
	}
	if err := c.pgctl(ctx, "stop", "-D", c.dir, "-m", "immediate", "-w", "-t", "30"); err != nil {
		return false, fmt.Errorf("embedded postgres: stop orphaned server %d: %w", pid.pid, err)
	}
	return false, nil
}

func (c *Cluster) removePidFile() error {
	if err := os.Remove(filepath.Join(c.dir, "postmaster.pid")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("embedded postgres: remove stale postmaster.pid: %w", err)
	}
	return nil
}

func (c *Cluster) initdb(ctx context.Context) error {
	c.log.Info("initialising embedded postgres cluster", "dir", c.dir)
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("embedded postgres: create %s: %w", c.dir, err)
	}
	if err := c.chown(c.dir); err != nil {
		return err
	}
	secret := make([]byte, 24)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("embedded postgres: generate password: %w", err)
	}
	password := hex.EncodeToString(secret)
	// initdb reads the password from a file the server user can read,
	// kept beside the data directory only while initdb runs.
	tmp := filepath.Join(c.stateDir(), ".pg-init-pw")
	if err := os.WriteFile(tmp, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("embedded postgres: write password file: %w", err)
	}
	if err := c.chown(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	defer os.Remove(tmp)
	ictx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Byte-order collation (fast, the same everywhere) with UTF-8 character
	// classes, so that trigram search works on Chinese text; plain C where
	// the C.UTF-8 locale is missing.
	args := []string{"-D", c.dir, "-U", superuser, "--pwfile", tmp, "--auth", "scram-sha-256", "--encoding", "UTF8", "--no-instructions"}
	err := c.run(ictx, filepath.Join(c.binDir, "initdb"), append(args, "--lc-collate", "C", "--lc-ctype", "C.UTF-8")...)
	if err != nil {
		c.log.Warn("embedded postgres: initdb with C.UTF-8 failed, using the C locale", "err", err)
		if rmErr := os.RemoveAll(c.dir); rmErr != nil {
			return fmt.Errorf("embedded postgres: initdb: %w", err)
		}
		if err := os.MkdirAll(c.dir, 0o700); err != nil {
			return fmt.Errorf("embedded postgres: create %s: %w", c.dir, err)
		}
		if err := c.chown(c.dir); err != nil {
			return err
		}
		err = c.run(ictx, filepath.Join(c.binDir, "initdb"), append(args, "--locale", "C")...)
	}
	if err != nil {
		return fmt.Errorf("embedded postgres: initdb: %w", err)
	}
	conf := "\n# embedded hub cluster\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n" +
		"log_min_messages = warning\nmax_connections = 200\n"
	f, err := os.OpenFile(filepath.Join(c.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("embedded postgres: open postgresql.conf: %w", err)
	}
	if _, err := f.WriteString(conf); err != nil {
		f.Close()
		return fmt.Errorf("embedded postgres: write postgresql.conf: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("embedded postgres: write postgresql.conf: %w", err)
	}
	// The password file is written last: its presence marks a finished init.
	if err := os.WriteFile(c.passwordPath(), []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("embedded postgres: save password: %w", err)
	}
	return nil
}

func (c *Cluster) startServer(ctx context.Context) error {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := c.askPort, error(nil)
		if port == 0 {
			port, err = freePort()
		}
		if err != nil {
			return fmt.Errorf("embedded postgres: pick port: %w", err)
		}
		sctx, cancel := context.WithTimeout(ctx, c.timeout+5*time.Second)
		err = c.pgctl(sctx, "start", "-D", c.dir, "-w", "-t", strconv.Itoa(int(c.timeout/time.Second)),
			"-l", c.logPath(), "-o", "-p "+strconv.Itoa(port))
		cancel()
		if err == nil {
			c.port = port
			c.log.Info("embedded postgres started", "dir", c.dir, "port", port)
			return nil
		}
		lastErr = err
		c.log.Warn("embedded postgres: start failed, retrying", "attempt", attempt+1, "err", err)
	}
	return fmt.Errorf("embedded postgres: start (log in %s): %w", c.logPath(), lastErr)
}

func (c *Cluster) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.DSNFor("postgres"))
	if err != nil {
		return fmt.Errorf("embedded postgres: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.database).Scan(&exists); err != nil {
		return fmt.Errorf("embedded postgres: look up database: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.database}.Sanitize()); err != nil {
		return fmt.Errorf("embedded postgres: create database %s: %w", c.database, err)
	}
	return nil
}

func (c *Cluster) ping(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.DSNFor("postgres"))
	if err != nil {
		return fmt.Errorf("embedded postgres: connect: %w", err)
	}
	return conn.Close(ctx)
}

func (c *Cluster) pgctl(ctx context.Context, args ...string) error {
	return c.run(ctx, filepath.Join(c.binDir, "pg_ctl"), args...)
}

// run executes a server binary, as the postgres user when we are root.
func (c *Cluster) run(ctx context.Context, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = c.stateDir()
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
		cmd.Dir = "/"
	}
	// pg_ctl start leaves the server running with inherited descriptors;
	// without WaitDelay a pipe kept open by the server would block Wait.
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 2000 {
			msg = msg[len(msg)-2000:]
		}
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), args[0], err, msg)
	}
	return nil
}

// prepareUser decides which OS user runs the server and makes sure it can
// reach the data directory.
func (c *Cluster) prepareUser() error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return errors.New("embedded postgres: running as root needs the 'postgres' system user (PostgreSQL refuses to run as root): install PostgreSQL from the distribution packages, or set DATABASE_URL")
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	// The state directory is the hub's own: let the server user traverse it.
	if err := ensureSearchable(c.stateDir(), c.cred); err != nil {
		return err
	}
	for d := filepath.Dir(c.stateDir()); ; d = filepath.Dir(d) {
		ok, err := searchable(d, c.cred)
		if err != nil {
			return fmt.Errorf("embedded postgres: %w", err)
		}
		if !ok {
			return fmt.Errorf("embedded postgres: the server runs as user postgres, which cannot reach %s because %s is not searchable by it; set HUB_DATA_DIR to a directory it can reach (for example /var/lib/hub), run 'chmod o+x %s', or set DATABASE_URL", c.dir, d, d)
		}
		if d == "/" || d == "." {
			break
		}
	}
	if fi, err := os.Stat(c.dir); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != c.cred.Uid {
			return c.chownTree(c.dir)
		}
	}
	return nil
}

func ensureSearchable(dir string, cred *syscall.Credential) error {
	ok, err := searchable(dir, cred)
	if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if ok {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	if err := os.Chmod(dir, fi.Mode().Perm()|0o011); err != nil {
		return fmt.Errorf("embedded postgres: let the server user traverse %s: %w", dir, err)
	}
	return nil
}

func searchable(dir string, cred *syscall.Credential) (bool, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true, nil
	}
	mode := uint32(fi.Mode().Perm())
	switch {
	case st.Uid == cred.Uid:
		return mode&0o100 != 0, nil
	case st.Gid == cred.Gid:
		return mode&0o010 != 0, nil
	default:
		return mode&0o001 != 0, nil
	}
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	if err := os.Lchown(path, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
		return fmt.Errorf("embedded postgres: hand %s to the server user: %w", path, err)
	}
	return nil
}

func (c *Cluster) chownTree(root string) error {
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return c.chown(p)
	})
}

type pidFile struct {
	pid    int
	port   int
	status string
}

// readPidFile parses postmaster.pid: pid, data dir, start time, port,
// socket dir, listen address, shared memory key, status.
func readPidFile(dir string) (pidFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if len(lines) < 1 {
		return pidFile{}, errors.New("empty postmaster.pid")
	}
	var p pidFile
	if p.pid, err = strconv.Atoi(lines[0]); err != nil {
		return pidFile{}, fmt.Errorf("postmaster.pid: bad pid %q", lines[0])
	}
	if len(lines) >= 4 {
		p.port, _ = strconv.Atoi(lines[3])
	}
	if len(lines) >= 8 {
		p.status = lines[7]
	}
	return p, nil
}

// isPostgresProcess reports whether pid is alive and runs a postgres binary.
func isPostgresProcess(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	exe := string(bytes.SplitN(cmdline, []byte{0}, 2)[0])
	return strings.Contains(filepath.Base(exe), "postgres") || strings.HasPrefix(exe, "postgres:")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// findBinDir locates initdb and pg_ctl: an explicit directory, then PATH,
// then the newest /usr/lib/postgresql/*/bin.
func findBinDir(explicit string) (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if explicit != "" {
		if has(explicit) {
			return explicit, nil
		}
		return "", fmt.Errorf("embedded postgres: %s lacks initdb, pg_ctl or postgres: %w", explicit, ErrNoBinaries)
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		// Resolve symlinks so that initdb and postgres are found beside it.
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}
