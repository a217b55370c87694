package partner

import (
	"bufio"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/store"
)

// PositionHeader carries the change-log position of an export's snapshot:
// follow Query.changes(after: …) from it, and snapshot and log together
// hold every change once.
const PositionHeader = "X-Hub-Position"

// Export streams bulk exports (mounted at /export/): GET
// /export/cases.ndjson or /export/cases.csv (UTF-8 with a BOM, for Excel),
// filtered like Query.cases (regionCode, status, source, category,
// reportedFrom, reportedTo), in the caller's jurisdiction.
type Export struct {
	store *store.Store
	log   *slog.Logger
}

// NewExport returns the export endpoint over st.
func NewExport(st *store.Store, log *slog.Logger) *Export {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Export{store: st, log: log}
}

// exportRow is a case in the export (the GraphQL field names).
type exportRow struct {
	ID           string     `json:"id"`
	Source       string     `json:"source"`
	SourceID     string     `json:"sourceId"`
	Kind         string     `json:"kind"`
	Category     string     `json:"category"`
	Title        string     `json:"title"`
	Description  string     `json:"description"`
	Status       string     `json:"status"`
	SourceStatus string     `json:"sourceStatus"`
	Tier         string     `json:"tier"`
	Grid         string     `json:"gridCode"`
	Address      string     `json:"address"`
	AssigneeDept string     `json:"assigneeDept"`
	Lat          *float64   `json:"lat"`
	Lng          *float64   `json:"lng"`
	ReportedAt   time.Time  `json:"reportedAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
	DueAt        *time.Time `json:"dueAt"`
	ClosedAt     *time.Time `json:"closedAt"`
}

var csvHeader = []string{"id", "source", "sourceId", "kind", "category", "title", "description", "status", "sourceStatus",
	"tier", "gridCode", "address", "assigneeDept", "lat", "lng", "reportedAt", "updatedAt", "dueAt", "closedAt"}

func (e *Export) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := auth.From(r.Context())
	if p == nil {
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	name, format, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/export/"), ".")
	if name != "cases" || (format != "ndjson" && format != "csv") {
		http.Error(w, "unknown export: /export/cases.ndjson or /export/cases.csv", http.StatusNotFound)
		return
	}
	if p.Role == auth.Partner && !p.HasScope("cases:read") {
		http.Error(w, "the key needs the scope cases:read", http.StatusForbidden)
		return
	}
	f, err := exportFilter(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s := store.Scope{}
	if p.Role == auth.Staff || p.Role == auth.Partner {
		s.RegionCode = p.RegionCode
	}
	ctx := store.WithScope(r.Context(), s)
	bw := bufio.NewWriterSize(w, 64<<10)
	flusher, _ := w.(http.Flusher)
	var cw *csv.Writer
	enc := json.NewEncoder(bw)
	n := 0
	started := false
	err = e.store.ExportCases(ctx, f, func(pos int64) error {
		started = true
		w.Header().Set(PositionHeader, store.PositionCursor(pos))
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="cases.csv"`)
			bw.WriteString("\ufeff")
			cw = csv.NewWriter(bw)
			return cw.Write(csvHeader)
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		return nil
	}, func(c *store.ExportCase) error {
		x := exportRow{ID: caseID(c.ID), Source: c.Source, SourceID: c.SourceID, Kind: c.Kind, Category: c.Category,
			Title: c.Title, Description: c.Description, Status: c.Status, SourceStatus: c.SourceStatus, Tier: c.Tier,
			Grid: c.GridCode, Address: c.Address, AssigneeDept: c.AssigneeDept, Lat: c.Lat, Lng: c.Lng,
			ReportedAt: c.ReportedAt, UpdatedAt: c.UpdatedAt, DueAt: c.DueAt, ClosedAt: c.ClosedAt}
		var err error
		if cw != nil {
			err = cw.Write([]string{x.ID, x.Source, x.SourceID, x.Kind, x.Category, x.Title, x.Description, x.Status,
				x.SourceStatus, x.Tier, x.Grid, x.Address, x.AssigneeDept, float(x.Lat), float(x.Lng), stamp(x.ReportedAt),
				stamp(x.UpdatedAt), optStamp(x.DueAt), optStamp(x.ClosedAt)})
		} else {
			err = enc.Encode(&x)
		}
		if n++; n%1000 == 0 {
			if cw != nil {
				cw.Flush()
			}
			bw.Flush()
			if flusher != nil {
				flusher.Flush()
			}
		}
		return err
	})
	if cw != nil {
		cw.Flush()
	}
	if err != nil {
		if !started {
			status := http.StatusInternalServerError
			if canon.ErrorCode(err) == canon.StoreUnavailable {
				status = http.StatusServiceUnavailable
			}
			http.Error(w, canon.ErrorMessage(err), status)
			return
		}
		// Mid-stream: the body is cut short without its end, which a
		// client sees as a failed transfer, never as a complete export.
		e.log.Warn("export cut short", "rows", n, "error", err.Error())
		panic(http.ErrAbortHandler)
	}
	bw.Flush()
}

func float(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func optStamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return stamp(*t)
}

// exportFilter reads the filter parameters of an export.
func exportFilter(r *http.Request) (store.CaseFilter, error) {
	v := r.URL.Query()
	var f store.CaseFilter
	if s := v.Get("regionCode"); s != "" {
		f.RegionCode = &s
	}
	list := func(name string) []string {
		if s := v.Get(name); s != "" {
			return strings.Split(s, ",")
		}
		return nil
	}
	for _, s := range list("status") {
		f.Status = append(f.Status, canon.CaseStatus(strings.TrimSpace(s)))
	}
	f.Source, f.Category = list("source"), list("category")
	for _, p := range []struct {
		name string
		to   **time.Time
	}{{"reportedFrom", &f.ReportedFrom}, {"reportedTo", &f.ReportedTo}} {
		if s := v.Get(p.name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return f, errors.New(p.name + ": want RFC 3339 such as 2026-10-01T00:00:00+08:00")
			}
			*p.to = &t
		}
	}
	return f, nil
}

// Handler serves the partner endpoints: /open311/v2/ and /export/.
func Handler(st *store.Store, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /open311/", NewOpen311(st, log))
	mux.Handle("GET /export/", NewExport(st, log))
	return mux
}

// caseID is the case's global ID in the GraphQL API (base64url of
// "Case:id"), so that an exported case can be fetched there with
// node(id:). graph owns the format; partner may not import graph.
func caseID(id int64) string {
	return base64.RawURLEncoding.EncodeToString(strconv.AppendInt([]byte("Case:"), id, 10))
}
