// Package sim runs the demo source systems of the hub: it generates the
// deterministic synthetic city (package city) and serves it through the
// three simulated silos — the party-building PostgreSQL database
// (partydb), the governance REST API (govapi) and the city-management
// Open311 endpoint with its CSV export (open311) — on loopback, keeps
// changing them while they run, and writes the reference region layer and
// the ground truth for tests.
//
// The simulators play foreign systems: they share nothing with the hub's
// canonical model or normalisers.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ywtg/hub/sim/city"
	"github.com/ywtg/hub/sim/govapi"
	"github.com/ywtg/hub/sim/open311"
	"github.com/ywtg/hub/sim/partydb"
)

// Options configures Start.
type Options struct {
	Seed      uint64     // seed of the city; same seed and scale, same data
	Scale     city.Scale // small (default), medium or city
	DirtyRate float64    // share of records with an injected defect; 0 means the default 0.02, negative means none
	// DataDir receives layer.geojson, truth.json, csv/cases_YYYYMMDD.csv
	// and live.log, the live history: a simulator started again on the
	// same directory (same seed, scale, dirty rate and reference) replays
	// it and goes on where it was, its wall clock included. Empty: a new
	// temporary directory, removed by Close.
	DataDir string
	// PartyDSN is the party database (created by the caller). Empty: the
	// party system is not loaded.
	PartyDSN    string
	GovAddr     string        // listen address of the governance API; default 127.0.0.1:0
	Open311Addr string        // listen address of Open311; default 127.0.0.1:0
	LiveRate    float64       // live changes per second of wall time; 0 means 3, negative means none
	Reference   time.Time     // end of generated history; zero means city.DefaultReference
	Clock       city.Clock    // simulator clock; nil means a wall clock starting at Reference
	TokenTTL    time.Duration // governance token lifetime; default 600 s
	Logger      *slog.Logger  // default slog.Default()
}

// Systems are the running simulated source systems.
type Systems struct {
	City  *city.City
	Clock city.Clock

	GovURL       string // base URL of the governance API, e.g. http://127.0.0.1:41234
	Open311URL   string // base URL of the Open311 server; endpoints under /open311/v2/
	ClientID     string // governance API credentials
	ClientSecret string
	PartyDSN     string // the party database ("" when not loaded)

	DataDir   string
	LayerPath string // GeoJSON region and grid layer (WGS-84)
	TruthPath string // ground truth JSON, as generated (before live changes)
	CSVDir    string // city-management daily CSV export (GBK)

	Gov     *govapi.Server  // fault knobs: Gov.Faults(), Gov.ExpireTokens()
	Open311 *open311.Server // Open311.SetDown

	log      *slog.Logger
	party    *partydb.DB
	servers  []*http.Server
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	tempDir  bool
	live     *liveLog // the live history in DataDir
	stepMu   sync.Mutex
	closeOne sync.Once
}

// Start generates the city, writes the layer, ground truth and CSV
// export, loads the party database, starts the HTTP servers and the live
// change loop. Close stops everything.
func Start(ctx context.Context, opts Options) (_ *Systems, err error) {
	cfg := city.DefaultConfig()
	cfg.Seed = opts.Seed
	if opts.Scale != "" {
		cfg.Scale = opts.Scale
	}
	switch {
	case opts.DirtyRate < 0:
		cfg.DirtyRate = 0
	case opts.DirtyRate > 0:
		cfg.DirtyRate = opts.DirtyRate
	}
	if !opts.Reference.IsZero() {
		cfg.Reference = opts.Reference
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	t0 := time.Now()
	c, err := city.Generate(cfg)
	if err != nil {
		return nil, fmt.Errorf("start simulators: %w", err)
	}
	log.Info("synthetic city generated", "scale", cfg.Scale, "seed", cfg.Seed, "grids", len(c.Grids), "residents", len(c.People),
		"partyMembers", len(c.Members), "cases", len(c.GovEvents)+len(c.CityCases), "took", time.Since(t0).Round(time.Millisecond))
	s := &Systems{City: c, log: log, DataDir: opts.DataDir}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.DataDir == "" {
		if s.DataDir, err = os.MkdirTemp("", "hub-sim-"); err != nil {
			return nil, fmt.Errorf("start simulators: %w", err)
		}
		s.tempDir = true
	}
	if err := os.MkdirAll(s.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("start simulators: %w", err)
	}
	// The live history kept in the data directory is replayed onto the
	// generated city, and a wall clock goes on from where it was.
	want := liveHeader{Format: liveLogFormat, Seed: cfg.Seed, Scale: cfg.Scale, DirtyRate: cfg.DirtyRate, Reference: cfg.Reference}
	if opts.Clock == nil {
		wall := city.NewWallClock(cfg.Reference)
		want.ClockStart, want.ClockOrigin = wall.Start, wall.Origin
	}
	var steps []liveStep
	var hdr liveHeader
	if s.live, hdr, steps, err = openLiveLog(s.DataDir, want); err != nil {
		return nil, fmt.Errorf("start simulators: %w", err)
	}
	s.Clock = opts.Clock
	if s.Clock == nil {
		s.Clock = &city.WallClock{Start: hdr.ClockStart, Origin: hdr.ClockOrigin}
		if hdr.ClockStart.IsZero() { // the state was written on a caller's clock
			s.Clock = city.NewWallClock(cfg.Reference)
		}
	}
	clock := s.Clock
	s.LayerPath = filepath.Join(s.DataDir, "layer.geojson")
	s.TruthPath = filepath.Join(s.DataDir, "truth.json")
	s.CSVDir = filepath.Join(s.DataDir, "csv")
	if err := writeFileAtomic(s.LayerPath, c.WriteGeoJSON); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(s.TruthPath, c.WriteTruth); err != nil {
		return nil, err
	}
	// The party database is loaded with the generated city and then
	// given the replayed changes as the live steps wrote them: a row
	// reflects the city when its change was written (a member's address
	// is not rewritten when the person moves), so reloading it from the
	// replayed city would change rows behind their update stamps.
	var pending *partydb.Pending
	if opts.PartyDSN != "" {
		if s.party, err = partydb.Open(ctx, opts.PartyDSN); err != nil {
			return nil, fmt.Errorf("start simulators: %w", err)
		}
		if err := s.party.Load(ctx, c); err != nil {
			return nil, fmt.Errorf("start simulators: %w", err)
		}
		s.PartyDSN = opts.PartyDSN
		pending = s.party.NewPending()
	}
	if len(steps) > 0 {
		t1 := time.Now()
		var step func([]city.Change)
		if pending != nil {
			step = func(ch []city.Change) { pending.Add(c, ch) }
		}
		n := replay(c, steps, step)
		if pending != nil {
			if err := pending.Write(ctx); err != nil {
				return nil, fmt.Errorf("start simulators: replay party changes: %w", err)
			}
		}
		log.Info("simulator state restored", "changes", n, "now", clock.Now().Format(time.RFC3339), "took", time.Since(t1).Round(time.Millisecond))
	}
	if _, err := open311.WriteCSV(ctx, c, s.CSVDir, clock.Now().Add(-open311.DefaultWindow)); err != nil {
		return nil, fmt.Errorf("start simulators: %w", err)
	}
	s.Gov = govapi.New(c, govapi.Options{Clock: clock, TokenTTL: opts.TokenTTL, Logger: log})
	s.ClientID, s.ClientSecret = govapi.DefaultClientID, govapi.DefaultClientSecret
	s.Open311 = open311.New(c, open311.Options{Clock: clock})
	if s.GovURL, err = s.serve(opts.GovAddr, s.Gov); err != nil {
		return nil, err
	}
	if s.Open311URL, err = s.serve(opts.Open311Addr, s.Open311); err != nil {
		return nil, err
	}
	rate := opts.LiveRate
	if rate == 0 {
		rate = 3
	}
	lctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if rate > 0 {
		s.wg.Add(1)
		go s.liveLoop(lctx, rate)
	}
	log.Info("simulated source systems started", "gov", s.GovURL, "open311", s.Open311URL, "party", s.PartyDSN != "", "dataDir", s.DataDir)
	return s, nil
}

// serve starts an HTTP server for h on addr and returns its base URL.
func (s *Systems) serve(addr string, h http.Handler) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("start simulators: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("simulator server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Faults returns the governance API's fault knobs.
func (s *Systems) Faults() *govapi.Faults { return s.Gov.Faults() }

// Step applies n live changes at the clock's current time, writing party
// changes to the party database, and returns them. Tests use it with a
// manual clock and LiveRate < 0 for deterministic change.
func (s *Systems) Step(ctx context.Context, n int) ([]city.Change, error) {
	s.stepMu.Lock()
	defer s.stepMu.Unlock()
	now := s.Clock.Now()
	// Logged first: a simulator killed after serving a change replays it.
	if err := s.live.append(now.Unix(), n); err != nil {
		return nil, err
	}
	changes := make([]city.Change, 0, n)
	for range n {
		changes = append(changes, s.City.Tick(now))
	}
	if s.party != nil {
		if err := s.party.Apply(ctx, s.City, changes); err != nil {
			return changes, err
		}
	}
	return changes, nil
}

func (s *Systems) liveLoop(ctx context.Context, rate float64) {
	defer s.wg.Done()
	every := time.Duration(float64(time.Second) / rate)
	if every < time.Millisecond {
		every = time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Step(ctx, 1); err != nil && ctx.Err() == nil {
				s.log.Warn("simulator live change", "err", err)
			}
		}
	}
}

// Close stops the live changes and the servers, closes the party database
// connection and removes a temporary data directory.
func (s *Systems) Close() error {
	var errs []error
	s.closeOne.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, srv := range s.servers {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		s.wg.Wait()
		if s.party != nil {
			s.party.Close()
		}
		if s.live != nil {
			if err := s.live.close(); err != nil {
				errs = append(errs, err)
			}
		}
		if s.tempDir {
			if err := os.RemoveAll(s.DataDir); err != nil {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(errs...)
}

// Describe returns a human-readable summary: addresses, credentials and
// paths, for the simulate command.
func (s *Systems) Describe() string {
	var b strings.Builder
	cfg := s.City.Config()
	fmt.Fprintf(&b, "synthetic city 襄阳市 (420600): scale %s, seed %d, dirty rate %.3g, reference %s\n",
		cfg.Scale, cfg.Seed, cfg.DirtyRate, cfg.Reference.Format(time.RFC3339))
	fmt.Fprintf(&b, "  grids %d, residents %d, party members %d, governance events %d, city-management cases %d\n",
		len(s.City.Grids), len(s.City.People), len(s.City.Members), len(s.City.GovEvents), len(s.City.CityCases))
	fmt.Fprintf(&b, "governance API (综治网格)   %s  POST /api/auth/token  clientId=%s clientSecret=%s\n", s.GovURL, s.ClientID, s.ClientSecret)
	fmt.Fprintf(&b, "city management (数字城管)  %s/open311/v2/  CSV export %s\n", s.Open311URL, s.CSVDir)
	if s.PartyDSN != "" {
		fmt.Fprintf(&b, "party building (党建)       %s\n", s.PartyDSN)
	} else {
		b.WriteString("party building (党建)       not loaded (no PartyDSN)\n")
	}
	fmt.Fprintf(&b, "region layer  %s\nground truth  %s\n", s.LayerPath, s.TruthPath)
	return b.String()
}

// String is Describe.
func (s *Systems) String() string { return s.Describe() }

// writeFileAtomic writes a file through a temporary name and a rename.
func writeFileAtomic(path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
