package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ywtg/hub/sim/city"
)

// LiveLogName is the simulators' state file in their data directory.
const LiveLogName = "live.log"

// liveLogFormat names the layout of the state file.
const liveLogFormat = "ywtg-sim-live/1"

// liveHeader is the first line of the state file: which city the steps
// apply to, and the simulated clock.
type liveHeader struct {
	Format    string     `json:"format"`
	Seed      uint64     `json:"seed"`
	Scale     city.Scale `json:"scale"`
	DirtyRate float64    `json:"dirtyRate"`
	Reference time.Time  `json:"reference"`
	// ClockStart and ClockOrigin are the wall clock's (city.WallClock):
	// the simulated instant at the wall time the clock first started. A
	// restarted simulator keeps them, so its time goes on from where it
	// was. Zero when the simulator runs on a clock of the caller's.
	ClockStart  time.Time `json:"clockStart,omitzero"`
	ClockOrigin time.Time `json:"clockOrigin,omitzero"`
}

func (h liveHeader) sameCity(o liveHeader) bool {
	return h.Format == o.Format && h.Seed == o.Seed && h.Scale == o.Scale && h.DirtyRate == o.DirtyRate && h.Reference.Equal(o.Reference)
}

// liveStep is one logged Step: n changes at the simulated second t.
type liveStep struct {
	t int64
	n int
}

// liveLog keeps the simulators' live history in their data directory: the
// city is generated from its seed, so its state is the generated one plus
// the live steps applied since, and the log holds those steps, one line
// "unix-seconds count" per Step after the header line. A step is written
// before it is applied (write-ahead), in one append, so a simulator killed
// at any instant restarts at least as far as anything it served; a line cut
// short is dropped. Replaying is deterministic: the same steps at the same
// seconds give the same city, id counters included.
type liveLog struct {
	mu sync.Mutex
	f  *os.File
}

// openLiveLog opens the state file of dir for a city described by want.
// When the file belongs to the same city it returns its header (with the
// clock it recorded) and steps; otherwise, or when there is none, it starts
// a new file with want and returns no steps.
func openLiveLog(dir string, want liveHeader) (*liveLog, liveHeader, []liveStep, error) {
	path := filepath.Join(dir, LiveLogName)
	hdr, steps, size, err := readLiveLog(path)
	switch {
	case err == nil && hdr.sameCity(want):
		f, err := os.OpenFile(path, os.O_WRONLY, 0o644)
		if err != nil {
			return nil, liveHeader{}, nil, fmt.Errorf("simulator state: %w", err)
		}
		// Drop a last line cut short, so the next step starts a line.
		if err := f.Truncate(size); err != nil {
			f.Close()
			return nil, liveHeader{}, nil, fmt.Errorf("simulator state: %w", err)
		}
		if _, err := f.Seek(size, io.SeekStart); err != nil {
			f.Close()
			return nil, liveHeader{}, nil, fmt.Errorf("simulator state: %w", err)
		}
		return &liveLog{f: f}, hdr, steps, nil
	case err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errForeignLog):
		return nil, liveHeader{}, nil, err
	}
	line, err := json.Marshal(want)
	if err != nil {
		return nil, liveHeader{}, nil, fmt.Errorf("simulator state: %w", err)
	}
	if err := writeFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(append(line, '\n'))
		return err
	}); err != nil {
		return nil, liveHeader{}, nil, fmt.Errorf("simulator state: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, liveHeader{}, nil, fmt.Errorf("simulator state: %w", err)
	}
	return &liveLog{f: f}, want, nil, nil
}

var errForeignLog = errors.New("not a simulator state file")

// readLiveLog reads a state file: its header, its complete step lines,
// and the size of the file up to the end of the last complete line.
func readLiveLog(path string) (liveHeader, []liveStep, int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return liveHeader{}, nil, 0, err
	}
	end := bytes.IndexByte(raw, '\n')
	var hdr liveHeader
	if end < 0 || json.Unmarshal(raw[:end], &hdr) != nil || hdr.Format != liveLogFormat {
		return liveHeader{}, nil, 0, fmt.Errorf("simulator state %s: %w", path, errForeignLog)
	}
	size := int64(end + 1)
	var steps []liveStep
	sc := bufio.NewScanner(bytes.NewReader(raw[end+1:]))
	for sc.Scan() {
		line := sc.Bytes()
		if int(size)+len(line) >= len(raw) {
			break // no line break: cut short
		}
		ts, ns, ok := bytes.Cut(line, []byte{' '})
		t, err1 := strconv.ParseInt(string(ts), 10, 64)
		n, err2 := strconv.Atoi(string(ns))
		if !ok || err1 != nil || err2 != nil || n < 0 {
			return liveHeader{}, nil, 0, fmt.Errorf("simulator state %s: bad line %q", path, line)
		}
		steps = append(steps, liveStep{t: t, n: n})
		size += int64(len(line)) + 1
	}
	return hdr, steps, size, nil
}

// append logs a step in one write.
func (l *liveLog) append(t int64, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("simulator state: closed")
	}
	line := strconv.AppendInt(nil, t, 10)
	line = append(line, ' ')
	line = strconv.AppendInt(line, int64(n), 10)
	line = append(line, '\n')
	if _, err := l.f.Write(line); err != nil {
		return fmt.Errorf("simulator state: %w", err)
	}
	return nil
}

func (l *liveLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// replay applies logged steps to a freshly generated city, handing each
// step's changes to step (nil for none) before the next is applied.
func replay(c *city.City, steps []liveStep, step func([]city.Change)) int {
	n := 0
	var changes []city.Change
	for _, s := range steps {
		at := time.Unix(s.t, 0).In(city.CST)
		changes = changes[:0]
		for range s.n {
			changes = append(changes, c.Tick(at))
		}
		if step != nil {
			step(changes)
		}
		n += s.n
	}
	return n
}
