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
// /export/{cases,people,partyMembers}.{ndjson,csv} (CSV is UTF-8 with a
// BOM, for Excel), in the caller's jurisdiction, personal data masked as
// the GraphQL API masks it. Cases are filtered like Query.cases
// (regionCode, status, source, category, reportedFrom, reportedTo), people
// like Query.people (regionCode, role), party members by regionCode.
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

// exportKinds are the exports: the scope a partner key needs for each
// and its CSV header.
var exportKinds = map[string]struct {
	scope  string
	header []string
}{
	"cases":        {"cases:read", csvHeader},
	"people":       {"people:read", personHeader},
	"partyMembers": {"party:read", memberHeader},
}

// personRow is a person in the export (the GraphQL field names), masked
// as the API masks it; an export never carries an unmasked value.
type personRow struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	IDNumber  string   `json:"idNumber"`
	Phone     *string  `json:"phone"`
	Gender    *string  `json:"gender"`
	BirthYear *int     `json:"birthYear"`
	Roles     []string `json:"roles"`
}

var personHeader = []string{"id", "name", "idNumber", "phone", "gender", "birthYear", "roles"}

// memberRow is a party member in the export, with the person's global ID
// and masked name.
type memberRow struct {
	ID               string  `json:"id"`
	PersonID         string  `json:"personId"`
	Name             *string `json:"name"` // null unless the caller may read people
	OrgID            *string `json:"orgId"`
	OrgName          *string `json:"orgName"`
	JoinedOn         *string `json:"joinedOn"`
	CentralHousehold bool    `json:"centralHousehold"`
	ServiceHours     float64 `json:"serviceHours"`
	Points           int     `json:"points"`
	Source           string  `json:"source"`
	SourceID         string  `json:"sourceId"`
}

var memberHeader = []string{"id", "personId", "name", "orgId", "orgName", "joinedOn", "centralHousehold", "serviceHours",
	"points", "source", "sourceId"}

// stream writes the rows of one export, buffered and flushed every 1000
// rows: memory does not grow with the export.
type stream struct {
	w       http.ResponseWriter
	name    string
	format  string
	header  []string
	bw      *bufio.Writer
	cw      *csv.Writer
	enc     *json.Encoder
	flusher http.Flusher
	n       int
	started bool
}

func (st *stream) start(pos int64) error {
	st.started = true
	st.w.Header().Set(PositionHeader, store.PositionCursor(pos))
	if st.format == "csv" {
		st.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		st.w.Header().Set("Content-Disposition", `attachment; filename="`+st.name+`.csv"`)
		st.bw.WriteString("\ufeff")
		st.cw = csv.NewWriter(st.bw)
		return st.cw.Write(st.header)
	}
	st.w.Header().Set("Content-Type", "application/x-ndjson")
	return nil
}

// write writes one row: v as a JSON line, or record as a CSV record
// (record is called only for CSV).
func (st *stream) write(v any, record func() []string) error {
	var err error
	if st.cw != nil {
		err = st.cw.Write(record())
	} else {
		err = st.enc.Encode(v)
	}
	if st.n++; st.n%1000 == 0 {
		if st.cw != nil {
			st.cw.Flush()
		}
		st.bw.Flush()
		if st.flusher != nil {
			st.flusher.Flush()
		}
	}
	return err
}

func (e *Export) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := auth.From(r.Context())
	if p == nil {
		exportError(w, http.StatusUnauthorized, canon.Unauthenticated, "authentication required")
		return
	}
	name, format, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/export/"), ".")
	kind, ok := exportKinds[name]
	if !ok || (format != "ndjson" && format != "csv") {
		exportError(w, http.StatusNotFound, canon.NotFound, "unknown export: /export/{cases,people,partyMembers}.{ndjson,csv}")
		return
	}
	if p.Role == auth.Partner && !p.HasScope(kind.scope) {
		exportError(w, http.StatusForbidden, canon.Forbidden, "this key lacks the scope "+kind.scope+" to export "+name)
		return
	}
	s := store.Scope{}
	if p.Role == auth.Staff || p.Role == auth.Partner {
		s.RegionCode = p.RegionCode
	}
	ctx := store.WithScope(r.Context(), s)
	bw := bufio.NewWriterSize(w, 64<<10)
	st := &stream{w: w, name: name, format: format, header: kind.header, bw: bw, enc: json.NewEncoder(bw)}
	st.flusher, _ = w.(http.Flusher)
	var err error
	switch name {
	case "cases":
		f, ferr := exportFilter(r)
		if ferr != nil {
			exportError(w, http.StatusBadRequest, canon.BadUserInput, ferr.Error())
			return
		}
		err = e.store.ExportCases(ctx, f, st.start, func(c *store.ExportCase) error {
			x := exportRow{ID: globalID("Case", c.ID), Source: c.Source, SourceID: c.SourceID, Kind: c.Kind, Category: c.Category,
				Title: c.Title, Description: c.Description, Status: c.Status, SourceStatus: c.SourceStatus, Tier: c.Tier,
				Grid: c.GridCode, Address: c.Address, AssigneeDept: c.AssigneeDept, Lat: c.Lat, Lng: c.Lng,
				ReportedAt: c.ReportedAt, UpdatedAt: c.UpdatedAt, DueAt: c.DueAt, ClosedAt: c.ClosedAt}
			return st.write(&x, func() []string {
				return []string{x.ID, x.Source, x.SourceID, x.Kind, x.Category, x.Title, x.Description, x.Status,
					x.SourceStatus, x.Tier, x.Grid, x.Address, x.AssigneeDept, float(x.Lat), float(x.Lng), stamp(x.ReportedAt),
					stamp(x.UpdatedAt), optStamp(x.DueAt), optStamp(x.ClosedAt)}
			})
		})
	case "people":
		var f store.PersonFilter
		q := r.URL.Query()
		if v := q.Get("regionCode"); v != "" {
			f.RegionCode = &v
		}
		if v := q.Get("role"); v != "" {
			for _, role := range strings.Split(v, ",") {
				f.Role = append(f.Role, canon.PersonRole(strings.TrimSpace(role)))
			}
		}
		err = e.store.ExportPeople(ctx, f, st.start, func(x *store.ExportPerson) error {
			row := personRow{ID: globalID("Person", x.ID), Name: x.NameMasked, IDNumber: x.IDMasked, Phone: x.PhoneMasked,
				Gender: x.Gender, BirthYear: x.BirthYear, Roles: x.Roles}
			if row.Roles == nil {
				row.Roles = []string{}
			}
			return st.write(&row, func() []string {
				year := ""
				if row.BirthYear != nil {
					year = strconv.Itoa(*row.BirthYear)
				}
				return []string{row.ID, row.Name, row.IDNumber, deref(row.Phone), deref(row.Gender), year, strings.Join(row.Roles, ";")}
			})
		})
	case "partyMembers":
		var region *string
		if v := r.URL.Query().Get("regionCode"); v != "" {
			region = &v
		}
		// The API shows a member's name only through its person, which
		// needs people:read; the export shows no more.
		names := p.Role != auth.Partner || p.HasScope("people:read")
		err = e.store.ExportPartyMembers(ctx, region, st.start, func(x *store.ExportPartyMember) error {
			row := memberRow{ID: globalID("PartyMember", x.ID), PersonID: globalID("Person", x.PersonID),
				OrgName: x.OrgName, CentralHousehold: x.CentralHousehold, ServiceHours: x.ServiceHours, Points: x.Points,
				Source: x.Source, SourceID: x.SourceID}
			if names {
				row.Name = &x.NameMasked
			}
			if x.OrgID != nil {
				id := globalID("PartyOrg", *x.OrgID)
				row.OrgID = &id
			}
			if x.JoinedOn != nil {
				d := x.JoinedOn.Format(time.DateOnly)
				row.JoinedOn = &d
			}
			return st.write(&row, func() []string {
				oid := ""
				if row.OrgID != nil {
					oid = *row.OrgID
				}
				return []string{row.ID, row.PersonID, deref(row.Name), oid, deref(row.OrgName), deref(row.JoinedOn),
					strconv.FormatBool(row.CentralHousehold), strconv.FormatFloat(row.ServiceHours, 'f', -1, 64),
					strconv.Itoa(row.Points), row.Source, row.SourceID}
			})
		})
	}
	if st.cw != nil {
		st.cw.Flush()
	}
	if err != nil {
		if !st.started {
			status, code := http.StatusInternalServerError, canon.ErrorCode(err)
			if code == canon.StoreUnavailable {
				status = http.StatusServiceUnavailable
			}
			exportError(w, status, code, canon.ErrorMessage(err))
			return
		}
		// Mid-stream: the body is cut short without its end, which a
		// client sees as a failed transfer, never as a complete export.
		e.log.Warn("export cut short", "export", name, "rows", st.n, "error", err.Error())
		panic(http.ErrAbortHandler)
	}
	bw.Flush()
}

// exportError answers an export that does not start with the error body
// of the GraphQL API: {"errors":[{"message", "extensions":{"code"}}]}.
func exportError(w http.ResponseWriter, status int, code canon.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": msg, "extensions": map[string]string{"code": string(code)}}}})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
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

// globalID is a record's global ID in the GraphQL API (base64url of
// "Type:id"), so that an exported record can be fetched there with
// node(id:). graph owns the format; partner may not import graph.
func globalID(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString(strconv.AppendInt([]byte(typ+":"), id, 10))
}
