package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ywtg/hub/canon"
)

// Case is a stored case with its provenance.
type Case struct {
	ID                 int64
	Kind               canon.CaseKind
	CategoryCode       *string
	SourceCategoryCode string
	SourceCategoryName string
	Title              string
	Description        string
	Status             canon.CaseStatus
	SourceStatus       string
	Tier               canon.CaseTier
	GridID             *int64
	Lat, Lng           *float64
	OrigLat, OrigLng   *float64
	OrigDatum          *canon.Datum
	Address            string
	ReportedAt         time.Time
	UpdatedAt          time.Time
	DueAt              *time.Time
	ClosedAt           *time.Time
	Overdue            bool
	AssigneeDept       string
	ReporterID         *int64
	IncidentID         *int64
	Provenance         Provenance
}

// Provenance is the stored provenance of a source-derived row.
type Provenance struct {
	Source          string
	SourceID        string
	SourceUpdatedAt *time.Time
	FetchedAt       time.Time
	PayloadHash     []byte
}

// overdueSQL is the one definition of "overdue": past due and not finished
// by then. Lists, counts and statistics all use it.
const overdueSQL = `(c.due_at IS NOT NULL AND c.due_at < coalesce(c.closed_at, now()))`

// reporterSQL is a case's reporter: the person its REPORTER link names (a
// case's reporter is a person record of the case's own source and source
// ID, person_link's key). Resolution moves the link, never the case.
const reporterSQL = `(SELECT l.person_id FROM person_link l WHERE l.source = c.source AND l.role = 'REPORTER' AND l.source_id = c.source_id)`

// reportedBySQL is the condition that a case's reporter is the person
// whose ID is the given placeholder.
func reportedBySQL(c, id string) string {
	return `(` + c + `.source, ` + c + `.source_id) IN (SELECT l.source, l.source_id FROM person_link l
		WHERE l.person_id = ` + id + ` AND l.role = 'REPORTER')`
}

const caseColumns = `c.id, c.kind, c.category_code, c.source_category_code, c.source_category_name,
	c.title, c.description, c.status, c.source_status, c.tier, c.grid_id, c.lat, c.lng,
	c.orig_lat, c.orig_lng, c.orig_datum, c.address, c.reported_at, c.updated_at, c.due_at,
	c.closed_at, ` + overdueSQL + `, c.assignee_dept, ` + reporterSQL + `, c.incident_id,
	c.source, c.source_id, c.source_updated_at, c.fetched_at, c.payload_hash`

// scanCase reads the caseColumns, after any leading columns given.
func scanCase(row pgx.Row, lead ...any) (*Case, error) {
	c := &Case{}
	p := &c.Provenance
	err := row.Scan(append(lead, &c.ID, &c.Kind, &c.CategoryCode, &c.SourceCategoryCode, &c.SourceCategoryName,
		&c.Title, &c.Description, &c.Status, &c.SourceStatus, &c.Tier, &c.GridID, &c.Lat, &c.Lng,
		&c.OrigLat, &c.OrigLng, &c.OrigDatum, &c.Address, &c.ReportedAt, &c.UpdatedAt, &c.DueAt,
		&c.ClosedAt, &c.Overdue, &c.AssigneeDept, &c.ReporterID, &c.IncidentID,
		&p.Source, &p.SourceID, &p.SourceUpdatedAt, &p.FetchedAt, &p.PayloadHash)...)
	return c, err
}

// CaseColumns are groups of a case's columns, for lists that read only
// what their caller uses (CaseQuery.Columns). The zero value reads every
// column; any other set reads the ID, the sort key of the order and the
// groups in it, and leaves the other fields of the cases zero.
type CaseColumns uint32

// The column groups of a case.
const (
	CaseColID             CaseColumns = 1 << iota // id (always read)
	CaseColKind                                   // kind
	CaseColCategory                               // category_code
	CaseColSourceCategory                         // source_category_code, source_category_name
	CaseColTitle                                  // title
	CaseColDescription                            // description
	CaseColStatus                                 // status
	CaseColSourceStatus                           // source_status
	CaseColTier                                   // tier
	CaseColGrid                                   // grid_id
	CaseColLocation                               // lat, lng
	CaseColOrigLocation                           // orig_lat, orig_lng, orig_datum
	CaseColAddress                                // address
	CaseColReportedAt                             // reported_at
	CaseColUpdatedAt                              // updated_at
	CaseColDueAt                                  // due_at
	CaseColClosedAt                               // closed_at
	CaseColOverdue                                // overdue (computed from due_at and closed_at)
	CaseColAssignee                               // assignee_dept
	CaseColReporter                               // the person of the reporter's link (reporterSQL)
	CaseColIncident                               // incident_id
	CaseColSource                                 // source
	CaseColSourceID                               // source_id
	CaseColProvenance                             // source_updated_at, fetched_at, payload_hash

	// AllCaseColumns are every column (caseColumns).
	AllCaseColumns CaseColumns = 1<<iota - 1
)

// caseColumn is one column of caseColumns: its group, its SQL and where
// scanCaseColumns reads it into.
type caseColumn struct {
	group CaseColumns
	sql   string
	dest  func(c *Case) any
	// scan, where set, is the destination a case list's scanner reads the
	// column through instead of dest, held by the scanner: coordinates
	// into slots of its own (pgx allocates a float64 a row otherwise),
	// category codes and statuses as one string a distinct value (they
	// repeat down a page).
	scan func(sc *caseScanner, c *Case, row, pos int) any
	// slot is the kind of slot the scan reads into, if any: the scanner
	// holds, for each row, one slot of the kind for each such column read.
	slot slotKind
}

// slotKind is a kind of value a case list reads into slots of its own.
type slotKind uint8

const (
	noSlot slotKind = iota
	floatSlot
	intSlot
	timeSlot
)

// caseColumnTable lists caseColumns in their order (a test holds them
// equal).
var caseColumnTable = [...]caseColumn{
	{CaseColID, "c.id", func(c *Case) any { return &c.ID }, nil, noSlot},
	{CaseColKind, "c.kind", func(c *Case) any { return &c.Kind }, nil, noSlot},
	{CaseColCategory, "c.category_code", func(c *Case) any { return &c.CategoryCode }, func(sc *caseScanner, c *Case, _, _ int) any {
		return sc.code.at(&c.CategoryCode)
	}, noSlot},
	{CaseColSourceCategory, "c.source_category_code", func(c *Case) any { return &c.SourceCategoryCode }, nil, noSlot},
	{CaseColSourceCategory, "c.source_category_name", func(c *Case) any { return &c.SourceCategoryName }, nil, noSlot},
	{CaseColTitle, "c.title", func(c *Case) any { return &c.Title }, nil, noSlot},
	{CaseColDescription, "c.description", func(c *Case) any { return &c.Description }, nil, noSlot},
	{CaseColStatus, "c.status", func(c *Case) any { return &c.Status }, func(sc *caseScanner, c *Case, _, _ int) any {
		return sc.status.at(&c.Status)
	}, noSlot},
	{CaseColSourceStatus, "c.source_status", func(c *Case) any { return &c.SourceStatus }, nil, noSlot},
	{CaseColTier, "c.tier", func(c *Case) any { return &c.Tier }, nil, noSlot},
	{CaseColGrid, "c.grid_id", func(c *Case) any { return &c.GridID }, optionalInt(func(c *Case) **int64 { return &c.GridID }), intSlot},
	{CaseColLocation, "c.lat", func(c *Case) any { return &c.Lat }, coordinate(func(c *Case) **float64 { return &c.Lat }), floatSlot},
	{CaseColLocation, "c.lng", func(c *Case) any { return &c.Lng }, coordinate(func(c *Case) **float64 { return &c.Lng }), floatSlot},
	{CaseColOrigLocation, "c.orig_lat", func(c *Case) any { return &c.OrigLat }, coordinate(func(c *Case) **float64 { return &c.OrigLat }), floatSlot},
	{CaseColOrigLocation, "c.orig_lng", func(c *Case) any { return &c.OrigLng }, coordinate(func(c *Case) **float64 { return &c.OrigLng }), floatSlot},
	{CaseColOrigLocation, "c.orig_datum", func(c *Case) any { return &c.OrigDatum }, nil, noSlot},
	{CaseColAddress, "c.address", func(c *Case) any { return &c.Address }, nil, noSlot},
	{CaseColReportedAt, "c.reported_at", func(c *Case) any { return &c.ReportedAt }, nil, noSlot},
	{CaseColUpdatedAt, "c.updated_at", func(c *Case) any { return &c.UpdatedAt }, nil, noSlot},
	{CaseColDueAt, "c.due_at", func(c *Case) any { return &c.DueAt }, optionalTime(func(c *Case) **time.Time { return &c.DueAt }), timeSlot},
	{CaseColClosedAt, "c.closed_at", func(c *Case) any { return &c.ClosedAt }, optionalTime(func(c *Case) **time.Time { return &c.ClosedAt }), timeSlot},
	{CaseColOverdue, overdueSQL, func(c *Case) any { return &c.Overdue }, nil, noSlot},
	{CaseColAssignee, "c.assignee_dept", func(c *Case) any { return &c.AssigneeDept }, nil, noSlot},
	{CaseColReporter, reporterSQL, func(c *Case) any { return &c.ReporterID }, optionalInt(func(c *Case) **int64 { return &c.ReporterID }), intSlot},
	{CaseColIncident, "c.incident_id", func(c *Case) any { return &c.IncidentID }, optionalInt(func(c *Case) **int64 { return &c.IncidentID }), intSlot},
	{CaseColSource, "c.source", func(c *Case) any { return &c.Provenance.Source }, nil, noSlot},
	{CaseColSourceID, "c.source_id", func(c *Case) any { return &c.Provenance.SourceID }, nil, noSlot},
	{CaseColProvenance, "c.source_updated_at", func(c *Case) any { return &c.Provenance.SourceUpdatedAt }, optionalTime(func(c *Case) **time.Time { return &c.Provenance.SourceUpdatedAt }), timeSlot},
	{CaseColProvenance, "c.fetched_at", func(c *Case) any { return &c.Provenance.FetchedAt }, nil, noSlot},
	{CaseColProvenance, "c.payload_hash", func(c *Case) any { return &c.Provenance.PayloadHash }, nil, noSlot},
}

// coordinate is the scan of a nullable coordinate column of a case (see
// optFloat): into the row's float slot pos.
func coordinate(field func(c *Case) **float64) func(sc *caseScanner, c *Case, row, pos int) any {
	return func(sc *caseScanner, c *Case, row, pos int) any {
		o := &sc.fl[pos]
		o.at(field(c), &sc.floats[sc.width[floatSlot]*row+pos])
		return o
	}
}

// optionalInt is the scan of a nullable bigint column of a case (see
// optInt): into the row's integer slot pos.
func optionalInt(field func(c *Case) **int64) func(sc *caseScanner, c *Case, row, pos int) any {
	return func(sc *caseScanner, c *Case, row, pos int) any {
		o := &sc.in[pos]
		o.at(field(c), &sc.ints[sc.width[intSlot]*row+pos])
		return o
	}
}

// optionalTime is the scan of a nullable timestamptz column of a case (see
// optTime): into the row's time slot pos.
func optionalTime(field func(c *Case) **time.Time) func(sc *caseScanner, c *Case, row, pos int) any {
	return func(sc *caseScanner, c *Case, row, pos int) any {
		o := &sc.tm[pos]
		o.at(field(c), &sc.times[sc.width[timeSlot]*row+pos])
		return o
	}
}

// caseSelect is the SQL column list of a set of column groups and the
// scanner of its rows. The scanner reuses one list of destinations, so it
// serves the rows of one query, one after another.
func caseSelect(cols CaseColumns) (string, *caseScanner) {
	sc := &caseScanner{status: interned[canon.CaseStatus]{what: "case status"}}
	if cols == 0 || cols == AllCaseColumns {
		for i := range caseColumnTable {
			sc.add(&caseColumnTable[i])
		}
		return caseColumns, sc
	}
	cols |= CaseColID
	var b strings.Builder
	for i := range caseColumnTable {
		if caseColumnTable[i].group&cols == 0 {
			continue
		}
		if len(sc.cols) > 0 {
			b.WriteString(", ")
		}
		b.WriteString(caseColumnTable[i].sql)
		sc.add(&caseColumnTable[i])
	}
	return b.String(), sc
}

// add appends a column to the scanner's, with its place among the row's
// slots of its kind.
func (sc *caseScanner) add(col *caseColumn) {
	sc.cols = append(sc.cols, col)
	sc.pos = append(sc.pos, sc.width[col.slot])
	sc.width[col.slot]++
}

// caseScanner reads the rows of a caseSelect column list.
type caseScanner struct {
	cols []*caseColumn
	// pos is each column's place among the row's slots of its kind, width
	// the number of slots of each kind a row has.
	pos   []int
	width [timeSlot + 1]int
	dest  []any
	// cases are the cases the rows are read into, allocated together
	// (doubling from 8 to 128): one allocation per chunk, not per row;
	// floats, ints and times are the slots their nullable columns point
	// at: width[kind] of each kind a case.
	cases  []Case
	floats []float64
	ints   []int64
	times  []time.Time
	// first is the size of the first chunk when the rows to come are
	// known (expect), so that a short page does not take two.
	first int
	// The destinations of the columns with a scan of their own.
	fl     [4]optFloat
	in     [3]optInt
	tm     [3]optTime
	code   internedCode
	status interned[canon.CaseStatus]
}

// scan reads one row, after any leading columns given.
func (sc *caseScanner) scan(row pgx.Row, lead ...any) (*Case, error) {
	if len(sc.cases) == cap(sc.cases) {
		n := min(max(2*cap(sc.cases), 8), 128)
		if sc.first > 0 {
			n, sc.first = sc.first, 0
		}
		sc.cases = make([]Case, 0, n)
		sc.floats = slots[float64](sc.width[floatSlot] * n)
		sc.ints = slots[int64](sc.width[intSlot] * n)
		sc.times = slots[time.Time](sc.width[timeSlot] * n)
	}
	i := len(sc.cases)
	sc.cases = sc.cases[:i+1]
	c := &sc.cases[i]
	sc.dest = append(sc.dest[:0], lead...)
	for k, col := range sc.cols {
		if col.scan != nil {
			sc.dest = append(sc.dest, col.scan(sc, c, i, sc.pos[k]))
		} else {
			sc.dest = append(sc.dest, col.dest(c))
		}
	}
	err := row.Scan(sc.dest...)
	return c, err
}

// slots is n slots of a kind, none allocated for none.
func slots[T any](n int) []T {
	if n == 0 {
		return nil
	}
	return make([]T, n)
}

// expect tells the scanner how many rows are to come at most (a page's
// limit and the row beyond it).
func (sc *caseScanner) expect(n int) {
	sc.first = min(max(n, 1), 128)
}

// slotted scans a nullable value into a slot and points a field at it (nil
// for NULL); optFloat, optInt and optTime are it for pgx's float8, int8
// and timestamptz scanner interfaces, which pgx reads into without
// allocating (a **T destination costs it a reflected allocation a row).
type slotted[T any] struct {
	field **T
	slot  *T
}

func (o *slotted[T]) at(field **T, slot *T) {
	o.field, o.slot = field, slot
}

func (o *slotted[T]) set(v T, valid bool) {
	if !valid {
		*o.field = nil
		return
	}
	*o.slot = v
	*o.field = o.slot
}

// optFloat is a slotted pgtype.Float64Scanner.
type optFloat struct{ slotted[float64] }

func (o *optFloat) ScanFloat64(v pgtype.Float8) error {
	o.set(v.Float64, v.Valid)
	return nil
}

// optInt is a slotted pgtype.Int64Scanner.
type optInt struct{ slotted[int64] }

func (o *optInt) ScanInt64(v pgtype.Int8) error {
	o.set(v.Int64, v.Valid)
	return nil
}

// optTime is a slotted pgtype.TimestamptzScanner; an infinite time is
// refused, as pgx refuses it for a time.Time.
type optTime struct{ slotted[time.Time] }

func (o *optTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	if v.Valid && v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("cannot scan an infinite time into a case's time")
	}
	o.set(v.Time, v.Valid)
	return nil
}

// internedCode scans a nullable category code (a pgtype.BytesScanner,
// given pgx's own bytes): the rows with the same code share one string
// and one pointer to it, which nothing writes through.
type internedCode struct {
	field **string
	seen  map[string]*string
}

func (o *internedCode) at(field **string) *internedCode {
	o.field = field
	return o
}

func (o *internedCode) ScanBytes(v []byte) error {
	if v == nil {
		*o.field = nil
		return nil
	}
	p, ok := o.seen[string(v)]
	if !ok {
		s := string(v)
		p = &s
		if o.seen == nil {
			o.seen = map[string]*string{}
		}
		o.seen[s] = p
	}
	*o.field = p
	return nil
}

// interned scans a non-null text column of few values (a pgtype
// BytesScanner, given pgx's own bytes): the rows with the same value share
// one string. what names the column in the error for a NULL.
type interned[T ~string] struct {
	field *T
	seen  map[string]T
	what  string
}

func (o *interned[T]) at(field *T) *interned[T] {
	o.field = field
	return o
}

func (o *interned[T]) ScanBytes(v []byte) error {
	if v == nil {
		return fmt.Errorf("%s: NULL", o.what)
	}
	st, ok := o.seen[string(v)]
	if !ok {
		st = T(v)
		if o.seen == nil {
			o.seen = map[string]T{}
		}
		o.seen[string(st)] = st
	}
	*o.field = st
	return nil
}

// CaseFilter narrows a case list. Zero fields do not filter.
type CaseFilter struct {
	RegionID   *int64  // the region and its whole subtree
	RegionCode *string // the same, the region named by its code
	Status     []canon.CaseStatus
	Tier       []canon.CaseTier
	Source     []string
	Category   []string // unified codes; a major class matches its minor classes
	// CategoryCodes are unified codes matched as they are: Category
	// expanded to its minor classes by a caller that holds the category
	// table. The statement then names the codes themselves, which
	// PostgreSQL plans in half the time of Category's lookup of the
	// classes and for the codes' own frequencies.
	CategoryCodes []string
	Kind          []canon.CaseKind
	ReportedFrom  *time.Time // inclusive
	ReportedTo    *time.Time // exclusive
	Overdue       *bool
	Text          string // substring of title or description
	// Within adds region subtrees the cases must also lie in (a field's
	// own region under a filter that names another).
	Within     []int64
	ReporterID *int64
}

func (f CaseFilter) where(ctx context.Context, a *sqlArgs) string {
	conds := []string{scopePath(ctx, "c.region_path", a)}
	if f.RegionID != nil {
		conds = append(conds, "c.region_path <@ (SELECT path FROM region WHERE id = "+a.add(*f.RegionID)+")")
	}
	if f.RegionCode != nil {
		conds = append(conds, "c.region_path <@ (SELECT path FROM region WHERE code = "+a.add(*f.RegionCode)+")")
	}
	for _, id := range f.Within {
		conds = append(conds, "c.region_path <@ (SELECT path FROM region WHERE id = "+a.add(id)+")")
	}
	if f.ReporterID != nil {
		conds = append(conds, reportedBySQL("c", a.add(*f.ReporterID)))
	}
	if len(f.Status) > 0 {
		conds = append(conds, "c.status = ANY("+a.add(strs(f.Status))+")")
	}
	if len(f.Tier) > 0 {
		conds = append(conds, "c.tier = ANY("+a.add(strs(f.Tier))+")")
	}
	if len(f.Source) > 0 {
		conds = append(conds, "c.source = ANY("+a.add(f.Source)+")")
	}
	if len(f.Category) > 0 {
		p := a.add(f.Category)
		conds = append(conds, "c.category_code IN (SELECT code FROM category WHERE code = ANY("+p+") OR parent_code = ANY("+p+"))")
	}
	if len(f.CategoryCodes) > 0 {
		conds = append(conds, "c.category_code = ANY("+a.add(f.CategoryCodes)+")")
	}
	if len(f.Kind) > 0 {
		conds = append(conds, "c.kind = ANY("+a.add(strs(f.Kind))+")")
	}
	if f.ReportedFrom != nil {
		conds = append(conds, "c.reported_at >= "+a.add(*f.ReportedFrom))
	}
	if f.ReportedTo != nil {
		conds = append(conds, "c.reported_at < "+a.add(*f.ReportedTo))
	}
	if f.Overdue != nil {
		if *f.Overdue {
			conds = append(conds, overdueSQL)
		} else {
			conds = append(conds, "NOT "+overdueSQL)
		}
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		// The cases holding the term's bigrams (the index), then the term
		// itself; a term of one character has none (textsearch.go).
		if grams := searchGrams(t); len(grams) > 0 {
			conds = append(conds, "c.search_grams @> "+a.add(grams)+"::int4[]")
		}
		conds = append(conds, "(c.title || ' ' || c.description) ILIKE "+a.add("%"+escapeLike(t)+"%"))
	}
	return strings.Join(conds, " AND ")
}

func strs[T ~string](in []T) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = string(v)
	}
	return out
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CaseOrderField is a sort key of case lists.
type CaseOrderField string

// Case sort keys.
const (
	OrderReportedAt CaseOrderField = "REPORTED_AT"
	OrderUpdatedAt  CaseOrderField = "UPDATED_AT"
	OrderDueAt      CaseOrderField = "DUE_AT"
)

// CaseOrder orders a case list; the id breaks ties so the order is total.
type CaseOrder struct {
	Field CaseOrderField
	Desc  bool
}

// sortExpr is the SQL sort key of an order; cases without a due time sort
// after every due time.
func (o CaseOrder) sortExpr() (string, error) {
	switch o.Field {
	case OrderReportedAt, "":
		return "c.reported_at", nil
	case OrderUpdatedAt:
		return "c.updated_at", nil
	case OrderDueAt:
		return "coalesce(c.due_at, 'infinity'::timestamptz)", nil
	}
	return "", canon.Errorf(canon.BadUserInput, "unknown case order %q", o.Field)
}

func (o CaseOrder) key() string {
	f := o.Field
	if f == "" {
		f = OrderReportedAt
	}
	if o.Desc {
		return string(f) + "_DESC"
	}
	return string(f) + "_ASC"
}

func (o CaseOrder) keyOf(c *Case) string {
	var t time.Time
	switch o.Field {
	case OrderUpdatedAt:
		t = c.UpdatedAt
	case OrderDueAt:
		if c.DueAt == nil {
			return "infinity"
		}
		t = *c.DueAt
	default:
		t = c.ReportedAt
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// column is the group of the order's sort key.
func (o CaseOrder) column() CaseColumns {
	switch o.Field {
	case OrderUpdatedAt:
		return CaseColUpdatedAt
	case OrderDueAt:
		return CaseColDueAt
	}
	return CaseColReportedAt
}

// CaseQuery selects a page of cases.
type CaseQuery struct {
	Filter CaseFilter
	Order  CaseOrder
	Page   PageArgs
	// Columns are the column groups read (see CaseColumns); zero: all.
	Columns CaseColumns `json:",omitempty"`
}

// columns are the groups the query reads: those asked for with the sort
// key, which the page's cursors are made of.
func (q CaseQuery) columns() CaseColumns {
	if q.Columns == 0 {
		return AllCaseColumns
	}
	return q.Columns | CaseColID | q.Order.column()
}

// pageSQL builds the condition, order and limit of a keyset page of cases.
func (q CaseQuery) pageSQL(ctx context.Context, a *sqlArgs) (where, tail string, limit int, err error) {
	limit, err = q.Page.limit()
	if err != nil {
		return "", "", 0, err
	}
	expr, err := q.Order.sortExpr()
	if err != nil {
		return "", "", 0, err
	}
	after, err := afterPosition(q.Page.After, q.Order.key())
	if err != nil {
		return "", "", 0, err
	}
	where = q.Filter.where(ctx, a)
	dir, cmp := "ASC", ">"
	if q.Order.Desc {
		dir, cmp = "DESC", "<"
	}
	if after != nil {
		key, err := cursorTime(after.Key)
		if err != nil {
			return "", "", 0, err
		}
		where += fmt.Sprintf(" AND (%s, c.id) %s (%s::timestamptz, %s)", expr, cmp, a.add(key), a.add(after.ID))
	}
	// The limit stays a parameter: PostgreSQL then plans every execution
	// for its filter's values, where a generic plan (which a literal limit
	// lets it settle on) walks the whole time index for a value that
	// matches nothing (TestPageStatementsArePlannedForTheirValues).
	tail = fmt.Sprintf(" ORDER BY %s %s, c.id %s LIMIT %s", expr, dir, dir, a.add(limit+1))
	return where, tail, limit, nil
}

func (q CaseQuery) page(list []*Case, limit int) Page[*Case] {
	order := q.Order.key()
	return newPage(list, limit, func(c *Case) Position { return Position{Order: order, Key: q.Order.keyOf(c), ID: c.ID} })
}

// Cases lists cases with keyset pagination on (sort key, id).
func (s *Store) Cases(ctx context.Context, q CaseQuery) (Page[*Case], error) {
	var a sqlArgs
	where, tail, limit, err := q.pageSQL(ctx, &a)
	if err != nil {
		return Page[*Case]{}, err
	}
	cols, sc := caseSelect(q.columns())
	sc.expect(limit + 1)
	rows, err := s.pool.Query(ctx, "SELECT "+cols+` FROM "case" c WHERE `+where+tail, a...)
	if err != nil {
		return Page[*Case]{}, fmt.Errorf("list cases: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Case, error) { return sc.scan(r) })
	if err != nil {
		return Page[*Case]{}, fmt.Errorf("list cases: %w", err)
	}
	return q.page(list, limit), nil
}

// CasesInRegions runs one case query for each of a batch of regions (each
// region's subtree, on top of the query's own filter) in one statement,
// returning the pages in the regions' order; a nil region has an empty
// page.
func (s *Store) CasesInRegions(ctx context.Context, regions []*Region, q CaseQuery) ([]Page[*Case], error) {
	// Refused without an access value even when no region needs a
	// statement.
	if err := checkScope(ctx); err != nil {
		return nil, err
	}
	ids, paths, grids := regionKeys(regions)
	a := sqlArgs{ids, paths}
	where, tail, limit, err := q.pageSQL(ctx, &a)
	if err != nil {
		return nil, err
	}
	out := make([]Page[*Case], len(regions))
	if len(ids) == 0 {
		for i := range out {
			out[i] = q.page(nil, limit)
		}
		return out, nil
	}
	// A grid's cases are found through the (grid_id, reported_at) index;
	// PostgreSQL cannot estimate ltree containment well enough to choose it
	// for a path condition, and would scan the whole time index instead.
	// Larger regions use the region-path index.
	in := "c.region_path <@ k.path::ltree"
	if grids {
		in = "c.grid_id = k.id"
	}
	cols, sc := caseSelect(q.columns())
	sc.expect(len(ids) * (limit + 1))
	rows, err := s.pool.Query(ctx, `SELECT k.id, x.* FROM unnest($1::bigint[], $2::text[]) AS k(id, path)
		CROSS JOIN LATERAL (SELECT `+cols+` FROM "case" c WHERE `+in+` AND `+where+tail+`) x`, a...)
	if err != nil {
		return nil, fmt.Errorf("list cases of regions: %w", err)
	}
	defer rows.Close()
	by := make(map[int64][]*Case, len(ids))
	for rows.Next() {
		var rid int64
		c, err := sc.scan(rows, &rid)
		if err != nil {
			return nil, fmt.Errorf("list cases of regions: %w", err)
		}
		by[rid] = append(by[rid], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list cases of regions: %w", err)
	}
	for i, r := range regions {
		var list []*Case
		if r != nil {
			list = by[r.ID]
		}
		out[i] = q.page(list, limit)
	}
	return out, nil
}

// regionKeys are the distinct ids and paths of the regions that are not
// nil, and whether they are all grids: the per-region reads find a grid's
// cases through case.grid_id, a larger region's through its path.
func regionKeys(regions []*Region) (ids []int64, paths []string, grids bool) {
	grids = true
	seen := make(map[int64]bool, len(regions))
	for _, r := range regions {
		if r == nil || seen[r.ID] {
			continue
		}
		seen[r.ID] = true
		ids, paths = append(ids, r.ID), append(paths, r.Path)
		grids = grids && r.Level == canon.LevelGrid
	}
	return ids, paths, grids
}

func cursorTime(key string) (string, error) {
	if key == "infinity" {
		return key, nil
	}
	if _, err := time.Parse(time.RFC3339Nano, key); err != nil {
		return "", canon.Errorf(canon.BadUserInput, "invalid cursor")
	}
	return key, nil
}

// CountCases counts the cases a filter selects.
func (s *Store) CountCases(ctx context.Context, f CaseFilter) (int, error) {
	var a sqlArgs
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM "case" c WHERE `+f.where(ctx, &a), a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count cases: %w", err)
	}
	return n, nil
}

// CasesByID loads cases for a batch of ids, in key order.
func (s *Store) CasesByID(ctx context.Context, ids []int64) ([]*Case, error) {
	a := sqlArgs{ids}
	rows, err := s.pool.Query(ctx, "SELECT "+caseColumns+` FROM "case" c WHERE c.id = ANY($1) AND `+scopePath(ctx, "c.region_path", &a), a...)
	if err != nil {
		return nil, fmt.Errorf("load cases: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Case, error) { return scanCase(r) })
	if err != nil {
		return nil, fmt.Errorf("load cases: %w", err)
	}
	return inKeyOrder(ids, list, func(c *Case) int64 { return c.ID }), nil
}

// CaseEvent is one step of a stored case timeline.
type CaseEvent struct {
	CaseID       int64
	Seq          int
	At           time.Time
	Status       canon.CaseStatus
	Tier         canon.CaseTier
	SourceStatus string
	Actor        string
	Note         string
}

// timelineSteps is a FROM item of the steps of a case's timeline (col, its
// "case".timeline column) as rows named alias: seq (from 1), at, status,
// tier, source_status, actor, note.
func timelineSteps(col, alias string) string {
	return `(SELECT t.seq::int AS seq, t.at, t.status, t.tier, coalesce(t.source_status, '') AS source_status,
			coalesce(t.actor, '') AS actor, coalesce(t.note, '') AS note
		FROM ROWS FROM (jsonb_to_recordset(` + col + `) AS (at timestamptz, status text, tier text,
			source_status text, actor text, note text)) WITH ORDINALITY
			AS t(at, status, tier, source_status, actor, note, seq)) ` + alias
}

// CaseTimelines loads the timelines of a batch of cases, in key order.
func (s *Store) CaseTimelines(ctx context.Context, caseIDs []int64) ([][]CaseEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.id, e.seq, e.at, e.status, e.tier, e.source_status, e.actor, e.note
		FROM "case" c CROSS JOIN LATERAL `+timelineSteps("c.timeline", "e")+`
		WHERE c.id = ANY($1) ORDER BY c.id, e.seq`, caseIDs)
	if err != nil {
		return nil, fmt.Errorf("load timelines: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CaseEvent, error) {
		var e CaseEvent
		err := r.Scan(&e.CaseID, &e.Seq, &e.At, &e.Status, &e.Tier, &e.SourceStatus, &e.Actor, &e.Note)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("load timelines: %w", err)
	}
	byCase := make(map[int64][]CaseEvent, len(caseIDs))
	for _, e := range events {
		byCase[e.CaseID] = append(byCase[e.CaseID], e)
	}
	out := make([][]CaseEvent, len(caseIDs))
	for i, id := range caseIDs {
		out[i] = byCase[id]
	}
	return out, nil
}

// Incident groups cases about one real-world problem.
type Incident struct {
	ID              int64
	Title           string
	CategoryCode    *string
	Lat, Lng        *float64
	FirstReportedAt *time.Time
}

// IncidentsByID loads incidents in key order: those with a case in the
// scope, when the request has one.
func (s *Store) IncidentsByID(ctx context.Context, ids []int64) ([]*Incident, error) {
	return byIDs(ctx, s, "incidents", "SELECT x.id, x.title, x.category_code, x.lat, x.lng, x.first_reported_at FROM incident x", ids,
		func(a *sqlArgs) string { return incidentVisible(ctx, a) },
		func(r pgx.CollectableRow) (*Incident, error) {
			i := &Incident{}
			err := r.Scan(&i.ID, &i.Title, &i.CategoryCode, &i.Lat, &i.Lng, &i.FirstReportedAt)
			return i, err
		}, func(i *Incident) int64 { return i.ID })
}
