// Package csvdrop connects the city-management system's daily case export
// (docs/sources.md §3, "CSV export"): files cases_YYYYMMDD.csv dropped in a
// directory, GBK, CRLF, RFC 4180, one header row. It backfills the history
// the Open311 endpoint no longer serves, mapping each row through the same
// citymgmt.Mapper as the Open311 connector, so a case reads the same from
// either channel.
//
// A file is read once. The cursor lists every file done with its size,
// modification time and a SHA-256 prefix of its bytes: an unchanged file is
// skipped on its size and time without being opened, a file whose size or
// time changed is hashed, and read again only if its bytes changed (a
// re-export); rows a re-export no longer holds are not deleted, since the
// export is history, not the system's current state. Every row is a case
// or a quarantine entry with its reason and the row's original bytes: a
// row with the wrong number of fields, broken quoting, bytes that are not
// GBK, or a value the normalisers refuse.
//
// csvdrop imports the connector contract, citymgmt's mapping, the shared
// normalisers, the reference layer and canon.
package csvdrop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/connectors"
	"github.com/ywtg/hub/connectors/citymgmt"
	"github.com/ywtg/hub/connectors/normalize"
	"github.com/ywtg/hub/connectors/places"
)

// Stream is the connector's one stream.
const Stream = "cases"

// Config configures the connector.
type Config struct {
	Name        string
	Description string
	Dir         string      // the drop directory
	Datum       canon.Datum // datum of 经度/纬度; default GCJ-02
	Layer       *places.Layer
	Addresses   *address.Directory // address fallback of grid placement; nil for none
	Times       normalize.Times
	Now         func() time.Time
	Log         *slog.Logger
	// Backfills names the live source of the same system (its Open311
	// channel): the export's cases are then keyed and stored as that
	// source's history, never overwriting what it delivered
	// (connectors.Description.Backfills). Empty: the export is a source of
	// its own.
	Backfills string
}

// Connector reads the export files.
type Connector struct {
	cfg    Config
	mapper citymgmt.Mapper
}

// Fields are the export's column names, as the quarantine reports them.
var Fields = citymgmt.Fields{Requested: "上报时间", Closed: "结案时间", Category: "案件类型/大类代码/小类代码", Status: "状态", Step: "状态",
	Tier: "层级", Position: "经度/纬度", Grid: "网格编码", Description: "问题描述", Address: "地址",
	History: func(i int, part string) string { return fmt.Sprintf("历史[%d].%s", i, part) }}

// columns are the export's columns (docs/sources.md).
var columns = []string{"案件编号", "案件类型", "大类代码", "小类代码", "问题描述", "地址", "经度", "纬度", "上报时间", "结案时间", "状态", "网格编码"}

const (
	colID = iota
	colKind
	colMajor
	colMinor
	colDescription
	colAddress
	colLong
	colLat
	colReported
	colClosed
	colState
	colGrid
)

var fileName = regexp.MustCompile(`^cases_[0-9]{8}\.csv$`)

// New returns a connector.
func New(cfg Config) *Connector {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Datum == "" {
		cfg.Datum = canon.GCJ02
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	keyedAs := cfg.Name
	if cfg.Backfills != "" {
		keyedAs = cfg.Backfills
	}
	return &Connector{cfg: cfg, mapper: citymgmt.Mapper{Source: keyedAs, Datum: cfg.Datum, Layer: cfg.Layer, Addresses: cfg.Addresses, Times: cfg.Times, Now: cfg.Now, Fields: Fields}}
}

// Describe implements connectors.Connector.
func (c *Connector) Describe() connectors.Description {
	return connectors.Description{Name: c.cfg.Name, Kind: canon.SourceFile, Description: c.cfg.Description, Streams: []string{Stream},
		Backfills: c.cfg.Backfills, History: true}
}

// done is a file already read.
type done struct {
	Name  string `json:"n"`
	Size  int64  `json:"s"`
	MTime int64  `json:"t"` // modification time, Unix nanoseconds
	Hash  string `json:"h"` // first 16 hex digits of the SHA-256 of the bytes
}

type cursor struct {
	Files []done `json:"files"` // sorted by name
}

func (cur *cursor) find(name string) (int, bool) {
	return slices.BinarySearchFunc(cur.Files, name, func(d done, n string) int { return strings.Compare(d.Name, n) })
}

func (cur *cursor) put(d done) {
	if i, ok := cur.find(d.Name); ok {
		cur.Files[i] = d
	} else {
		cur.Files = slices.Insert(cur.Files, i, d)
	}
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// defaultLimit is the rows gathered per page when the request names none;
// a page always ends at a file boundary, so a file is never split.
const defaultLimit = 5000

// Pull implements connectors.Connector: the files not yet read (or changed
// since), oldest day first, whole files until about req.Limit rows.
func (c *Connector) Pull(ctx context.Context, req connectors.Request) (connectors.Batch, error) {
	var cur cursor
	if req.Cursor != "" && !req.Full {
		if err := json.Unmarshal([]byte(req.Cursor), &cur); err != nil {
			return connectors.Batch{}, fmt.Errorf("csvdrop: bad cursor: %w", err)
		}
		slices.SortFunc(cur.Files, func(a, b done) int { return strings.Compare(a.Name, b.Name) })
	}
	entries, err := os.ReadDir(c.cfg.Dir)
	if err != nil {
		return connectors.Batch{}, fmt.Errorf("csvdrop: read directory %s: %w", c.cfg.Dir, err)
	}
	if err := c.checkCursor(&cur, entries); err != nil {
		return connectors.Batch{}, err
	}
	limit := req.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var b connectors.Batch
	changed := false
	for i, e := range entries { // ReadDir sorts by name: oldest day first
		if !e.Type().IsRegular() || !fileName.MatchString(e.Name()) {
			continue
		}
		if b.Fetched >= limit {
			b.More = c.pending(&cur, entries[i:])
			break
		}
		if err := ctx.Err(); err != nil {
			return connectors.Batch{}, err
		}
		info, err := e.Info()
		if err != nil {
			return connectors.Batch{}, fmt.Errorf("csvdrop: %s: %w", e.Name(), err)
		}
		d := done{Name: e.Name(), Size: info.Size(), MTime: info.ModTime().UnixNano()}
		if j, ok := cur.find(d.Name); ok && cur.Files[j].Size == d.Size && cur.Files[j].MTime == d.MTime {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(c.cfg.Dir, d.Name))
		if err != nil {
			return connectors.Batch{}, fmt.Errorf("csvdrop: %s: %w", d.Name, err)
		}
		d.Size, d.Hash = int64(len(raw)), hashOf(raw)
		if j, ok := cur.find(d.Name); ok && cur.Files[j].Hash == d.Hash {
			cur.put(d) // touched, not changed: remember the new time, read nothing
			changed = true
			continue
		}
		c.readFile(&b, d.Name, raw)
		cur.put(d)
		changed = true
		c.cfg.Log.Debug("csvdrop file read", "source", c.cfg.Name, "file", d.Name, "bytes", d.Size)
	}
	b.Next = req.Cursor
	if changed || req.Full {
		next, err := json.Marshal(cur)
		if err != nil {
			return connectors.Batch{}, fmt.Errorf("csvdrop: cursor: %w", err)
		}
		b.Next = string(next)
	}
	return b, nil
}

// checkCursor refuses a cursor whose files are gone from the directory
// other than by retention: files withdrawn from the old end of the export
// are history trimmed, but a file missing after the oldest one present,
// or every file gone, means the export was replaced (regenerated or
// renumbered), and what the cursor says was read no longer describes it.
func (c *Connector) checkCursor(cur *cursor, entries []os.DirEntry) error {
	if len(cur.Files) == 0 {
		return nil
	}
	present := map[string]bool{}
	oldest := ""
	for _, e := range entries {
		if e.Type().IsRegular() && fileName.MatchString(e.Name()) {
			present[e.Name()] = true
			if oldest == "" || e.Name() < oldest {
				oldest = e.Name()
			}
		}
	}
	for _, d := range cur.Files {
		if !present[d.Name] && (oldest == "" || d.Name > oldest) {
			return fmt.Errorf("csvdrop: %s was read but is gone from %s: %w", d.Name, c.cfg.Dir, connectors.ErrCursorRejected)
		}
	}
	return nil
}

// pending reports whether any of entries is a file still to read, judged
// by name, size and time only.
func (c *Connector) pending(cur *cursor, entries []os.DirEntry) bool {
	for _, e := range entries {
		if !e.Type().IsRegular() || !fileName.MatchString(e.Name()) {
			continue
		}
		j, ok := cur.find(e.Name())
		if !ok {
			return true
		}
		if info, err := e.Info(); err != nil || info.Size() != cur.Files[j].Size || info.ModTime().UnixNano() != cur.Files[j].MTime {
			return true
		}
	}
	return false
}

// readFile maps every row of one file into the batch. The CSV is parsed on
// the GBK bytes themselves — GBK's multi-byte characters never contain a
// comma, quote or line break — so each row keeps its original bytes, and
// each field is decoded on its own.
func (c *Connector) readFile(b *connectors.Batch, name string, raw []byte) {
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	var pos int64
	next := func() ([]string, []byte, error) {
		rec, err := r.Read()
		end := r.InputOffset()
		row := bytes.TrimRight(raw[pos:end], "\r\n")
		pos = end
		return rec, row, err
	}
	head, headRaw, err := next()
	if errors.Is(err, io.EOF) {
		return // an empty file holds no rows
	}
	var index []int
	if err == nil {
		index, err = columnIndex(head)
	}
	if err != nil {
		// Without a usable header no row can be read; each is kept.
		b.Fetched++
		b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: Stream, Reason: "MALFORMED", Field: "header",
			Message: fmt.Sprintf("%s: header row: %v", name, err), Raw: headRaw})
		for {
			_, row, err := next()
			if errors.Is(err, io.EOF) {
				return
			}
			b.Fetched++
			b.Quarantine = append(b.Quarantine, connectors.Quarantine{Stream: Stream, Reason: "MALFORMED", Field: "header",
				Message: name + ": the file's header row is unusable", Raw: row})
		}
	}
	seen := map[string]int{} // case id → index in b.Records
	for line := 2; ; line++ {
		rec, row, err := next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err == nil && len(rec) == 1 && rec[0] == "" {
			continue // a blank line holds no row
		}
		var cs *canon.Case
		id := ""
		if err == nil {
			if len(rec) != len(columns) {
				err = fmt.Errorf("%d fields, the export has %d", len(rec), len(columns))
			} else {
				id = strings.TrimSpace(rec[index[colID]])
				cs, err = c.mapRow(rec, index, row)
			}
		}
		if err != nil {
			if _, ok := normalize.AsDefect(err); !ok {
				err = fmt.Errorf("%s line %d: %w", name, line, err)
			}
			b.Fetched++
			b.Quarantine = append(b.Quarantine, connectors.QuarantineFor(Stream, id, row, err))
			continue
		}
		if i, ok := seen[cs.SourceID]; ok {
			b.Records[i] = cs // the same row twice in one file: the later copy wins
			continue
		}
		seen[cs.SourceID] = len(b.Records)
		b.Fetched++
		b.Records = append(b.Records, cs)
	}
}

// columnIndex maps the export's columns onto the header's positions.
func columnIndex(head []string) ([]int, error) {
	pos := map[string]int{}
	for i, h := range head {
		s, err := normalize.DecodeGBK("header", []byte(h))
		if err != nil {
			return nil, err
		}
		pos[strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))] = i
	}
	index := make([]int, len(columns))
	var missing []string
	for i, col := range columns {
		p, ok := pos[col]
		if !ok {
			missing = append(missing, col)
		}
		index[i] = p
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("columns %s missing", strings.Join(missing, ", "))
	}
	return index, nil
}

// mapRow decodes one row's fields from GBK and maps it.
func (c *Connector) mapRow(rec []string, index []int, raw []byte) (*canon.Case, error) {
	v := make([]string, len(columns))
	for i, col := range columns {
		s, err := normalize.DecodeGBK(col, []byte(rec[index[i]]))
		if err != nil {
			return nil, err
		}
		v[i] = s
	}
	if strings.TrimSpace(v[colID]) == "" {
		return nil, &normalize.Defect{Reason: normalize.MissingField, Field: "案件编号", Message: "no case number"}
	}
	// A row without coordinates is placed by its grid code or address; a
	// coordinate that is no number is refused by the mapper (the record's
	// when it has no address, else the field's alone).
	lng, lngGiven := coordinate(v[colLong])
	lat, latGiven := coordinate(v[colLat])
	return c.mapper.Case(citymgmt.Record{ID: strings.TrimSpace(v[colID]), Step: v[colState],
		KindName: v[colKind], MajorCode: v[colMajor], MinorCode: v[colMinor], Description: v[colDescription],
		Address: v[colAddress], Requested: v[colReported], Closed: v[colClosed], Lat: lat, Long: lng,
		NoPosition: !lngGiven || !latGiven, PositionText: strings.TrimSpace(v[colLat]) + "," + strings.TrimSpace(v[colLong]),
		GridCode: v[colGrid]}, raw)
}

// coordinate reads a coordinate column: false when it is empty, NaN when
// it is no number.
func coordinate(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN(), true
	}
	return f, true
}
