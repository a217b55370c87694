package graph

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
)

// The change feed (Query.changes, the subscriptions): the store's change
// log read for one caller — the types it may read, its jurisdiction, the
// record as it is now through the loaders.

const (
	defaultChangesPage = 100
	maxChangesPage     = 500
	// maxChangesScan bounds the log entries one page reads looking for
	// changes the caller may see, in pages: a caller that sees little of
	// the log gets shorter pages, never a request that reads all of it.
	maxChangesScan = 20
)

// changeTypeNames are the GraphQL object types of the change types.
var changeTypeNames = map[model.ChangeType]string{
	model.ChangeTypeCase:            typeCase,
	model.ChangeTypePerson:          typePerson,
	model.ChangeTypeHousehold:       typeHousehold,
	model.ChangeTypePartyOrg:        typePartyOrg,
	model.ChangeTypePartyMember:     typePartyMember,
	model.ChangeTypeServiceStation:  typeStation,
	model.ChangeTypeGridWorker:      typeGridWorker,
	model.ChangeTypeIncident:        typeIncident,
	model.ChangeTypeQuarantineEntry: "QuarantineEntry",
}

const positionPrefix = "position:"

// encodePosition is the opaque cursor of a log position.
func encodePosition(p int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(positionPrefix + strconv.FormatInt(p, 10)))
}

// decodePosition reads a cursor of encodePosition; nil is "from the oldest
// change kept" (-1).
func decodePosition(s *string) (int64, error) {
	if s == nil {
		return -1, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*s)
	if err == nil {
		if num, ok := strings.CutPrefix(string(raw), positionPrefix); ok {
			if p, err := strconv.ParseInt(num, 10, 64); err == nil && p >= 0 {
				return p, nil
			}
		}
	}
	return 0, canon.Errorf(canon.BadUserInput, "invalid change position %q", *s)
}

// changeQuery is what a caller follows.
type changeQuery struct {
	types      []string // store change types
	operations map[model.ChangeOperation]bool
	regionPath string // "" for anywhere
	scoped     bool   // the caller has a jurisdiction
	scopePath  string
	// skipNodes: the records need not be loaded (the caller has no
	// jurisdiction to check them against and selects no node).
	skipNodes bool
}

// newChangeQuery checks the types against the caller's access (a type it
// may not read asked for by name is FORBIDDEN; left unnamed, it is left
// out) and resolves the region conditions.
func (r *Resolver) newChangeQuery(ctx context.Context, types []model.ChangeType, filter *model.ChangeFilter) (*changeQuery, error) {
	p := auth.From(ctx)
	if p == nil || r.access == nil {
		return nil, canon.Errorf(canon.Unauthenticated, "authentication required")
	}
	q := &changeQuery{}
	named := len(types) > 0
	if !named {
		types = model.AllChangeType
	}
	for _, t := range types {
		if err := r.access.mayRead(p, changeTypeNames[t]); err != nil {
			if named {
				return nil, err
			}
			continue
		}
		q.types = append(q.types, string(t))
	}
	if filter != nil {
		if len(filter.Operations) > 0 {
			q.operations = make(map[model.ChangeOperation]bool, len(filter.Operations))
			for _, o := range filter.Operations {
				q.operations[o] = true
			}
		}
		if filter.RegionCode != nil {
			path, found, err := r.Store.RegionPath(ctx, *filter.RegionCode)
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, canon.Errorf(canon.BadUserInput, "no region with code %q", *filter.RegionCode)
			}
			q.regionPath = path
		}
	}
	var err error
	if q.scopePath, q.scoped, err = r.Store.ScopePath(ctx); err != nil {
		return nil, err
	}
	return q, nil
}

// changesPage reads up to first changes the caller may see after position
// after; end is where to continue and more whether the log may hold more.
func (r *Resolver) changesPage(ctx context.Context, l *Loaders, q *changeQuery, after int64, first int) (out []*model.Change, end int64, more bool, err error) {
	return r.changesPageFrom(ctx, r.Store.ChangesAfter, l, q, after, first)
}

// logReader reads log entries after a position (store.ChangesAfter, or the
// feed's recent entries).
type logReader func(ctx context.Context, after int64, limit int, types []string) ([]store.Change, error)

// changesPageFrom is changesPage reading the log through read.
func (r *Resolver) changesPageFrom(ctx context.Context, read logReader, l *Loaders, q *changeQuery, after int64, first int) (out []*model.Change, end int64, more bool, err error) {
	end = after
	if len(q.types) == 0 {
		if end < 0 {
			head, _, err := r.Store.ChangeHead(ctx)
			return nil, head, false, err
		}
		return nil, end, false, nil
	}
	for scans := 0; scans < maxChangesScan; scans++ {
		batch, err := read(ctx, end, first, q.types)
		if err != nil {
			return nil, 0, false, err
		}
		if len(batch) == 0 {
			if end < 0 {
				_, pruned, err := r.Store.ChangeHead(ctx)
				return out, pruned, false, err
			}
			return out, end, false, nil
		}
		picked := r.visibleChanges(ctx, l, q, batch)
		for i, c := range batch {
			if m := picked[i]; m != nil {
				if len(out) == first {
					return out, end, true, nil
				}
				out = append(out, m)
			}
			end = c.Position
		}
		if len(batch) < first {
			return out, end, false, nil
		}
		if len(out) == first {
			return out, end, true, nil
		}
	}
	return out, end, true, nil
}

// visibleChanges turns the log entries the caller may see into their
// GraphQL form (nil at the others' index); l nil: fresh loaders if needed. A change is seen when its
// record, loaded as the caller, is there, or when its record lay in the
// caller's jurisdiction when it was written (a deletion, a record since
// gone); never otherwise, so the caller does not learn that anything
// happened outside its jurisdiction.
func (r *Resolver) visibleChanges(ctx context.Context, l *Loaders, q *changeQuery, batch []store.Change) []*model.Change {
	out := make([]*model.Change, len(batch))
	thunks := make([]func() (model.Node, error), len(batch))
	for i, c := range batch {
		if q.operations != nil && !q.operations[model.ChangeOperation(c.Op)] {
			continue
		}
		if q.regionPath != "" && !c.Within(q.regionPath) {
			continue
		}
		name := changeTypeNames[model.ChangeType(c.Type)]
		m := &model.Change{Position: encodePosition(c.Position), Type: model.ChangeType(c.Type),
			Operation: model.ChangeOperation(c.Op), ChangedFields: c.Fields, At: c.At, CommittedAt: c.CommittedAt}
		if m.ChangedFields == nil {
			m.ChangedFields = []string{}
		}
		if c.RunID != nil {
			run := int(*c.RunID)
			m.SyncRun = &run
		}
		if k, ok := nodeKinds[name]; ok {
			m.RecordID = globalID(name, c.RecordID)
			if c.Op != "DELETE" && !q.skipNodes {
				if l == nil {
					l = r.newLoaders()
				}
				thunks[i] = k.load(ctx, l, c.RecordID)
			}
		} else {
			m.RecordID = strconv.FormatInt(c.RecordID, 10)
		}
		out[i] = m
	}
	for i, c := range batch {
		m := out[i]
		if m == nil {
			continue
		}
		if thunks[i] != nil {
			n, err := thunks[i]()
			if err == nil {
				m.Node = n
			}
		}
		if q.scoped && m.Node == nil && !c.Within(q.scopePath) {
			out[i] = nil
		}
	}
	return out
}

// Changes serves Query.changes.
func (r *Resolver) changes(ctx context.Context, after *string, first *int, types []model.ChangeType, filter *model.ChangeFilter) (*model.ChangeConnection, error) {
	n := defaultChangesPage
	if first != nil {
		n = *first
	}
	if n < 0 || n > maxChangesPage {
		return nil, canon.Errorf(canon.BadUserInput, "first must be between 0 and %d", maxChangesPage)
	}
	pos, err := decodePosition(after)
	if err != nil {
		return nil, err
	}
	q, err := r.newChangeQuery(ctx, types, filter)
	if err != nil {
		return nil, err
	}
	q.skipNodes = !q.scoped && !selectsNode(ctx)
	var (
		list []*model.Change
		end  = pos
		more bool
	)
	if n > 0 {
		list, end, more, err = r.changesPage(ctx, r.loaders(ctx), q, pos, n)
		if err != nil {
			return nil, err
		}
	} else if end < 0 {
		// The head, where a snapshot of the lists read next is followed
		// from (README, "snapshot, then follow").
		if end, _, err = r.Store.ChangeHead(ctx); err != nil {
			return nil, err
		}
	}
	conn := &model.ChangeConnection{Edges: make([]*model.ChangeEdge, len(list))}
	for i, c := range list {
		conn.Edges[i] = &model.ChangeEdge{Cursor: c.Position, Node: c}
	}
	cursor := encodePosition(end)
	conn.PageInfo = &model.PageInfo{HasNextPage: more, EndCursor: &cursor}
	if selectsField(ctx, "totalCount") && len(q.types) > 0 {
		ops := make([]string, 0, len(q.operations))
		for o := range q.operations {
			ops = append(ops, string(o))
		}
		if conn.TotalCount, err = r.Store.CountChanges(ctx, pos, q.types, ops, q.regionPath); err != nil {
			return nil, err
		}
	}
	return conn, nil
}

// selectsNode reports whether the changes connection being resolved selects
// edges { node { node } }.
func selectsNode(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return true
	}
	op := graphql.GetOperationContext(ctx)
	for _, edges := range graphql.CollectFields(op, fc.Field.Selections, nil) {
		if edges.Name != "edges" {
			continue
		}
		for _, edge := range graphql.CollectFields(op, edges.Selections, nil) {
			if edge.Name != "node" {
				continue
			}
			for _, f := range graphql.CollectFields(op, edge.Selections, nil) {
				if f.Name == "node" {
					return true
				}
			}
		}
	}
	return false
}

// selectsField reports whether the field being resolved selects name.
func selectsField(ctx context.Context, name string) bool {
	if graphql.GetFieldContext(ctx) == nil || !graphql.HasOperationContext(ctx) {
		return true
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}
