package graph

import (
	"context"
	"reflect"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
)

// maxNodes bounds Query.nodes like a page.
const maxNodes = 500

// nodeKind is how Query.node finds objects of one type implementing Node.
type nodeKind struct {
	goType reflect.Type // what its loader returns
	load   func(ctx context.Context, l *Loaders, id int64) func() (model.Node, error)
}

// nodeKinds are the types a global ID can name. The access check of
// abstract fields names objects by their Go type through it, so a type
// missing here is refused, never let through.
var nodeKinds = map[string]nodeKind{
	typeRegion:      kind(func(l *Loaders) *lazyLoader[int64, *store.Region] { return &l.Region }),
	typeCase:        kindAs(func(l *Loaders) *lazyLoader[int64, *store.Case] { return &l.Case }, model.CaseOf),
	typePerson:      kind(func(l *Loaders) *lazyLoader[int64, *store.Person] { return &l.Person }),
	typeHousehold:   kind(func(l *Loaders) *lazyLoader[int64, *store.Household] { return &l.Household }),
	typeGridWorker:  kind(func(l *Loaders) *lazyLoader[int64, *store.GridWorker] { return &l.GridWorker }),
	typePartyOrg:    kind(func(l *Loaders) *lazyLoader[int64, *store.PartyOrg] { return &l.PartyOrg }),
	typePartyMember: kind(func(l *Loaders) *lazyLoader[int64, *store.PartyMember] { return &l.PartyMember }),
	typeStation:     kind(func(l *Loaders) *lazyLoader[int64, *store.ServiceStation] { return &l.Station }),
	typeIncident:    kindAs(func(l *Loaders) *lazyLoader[int64, *store.Incident] { return &l.Incident }, model.IncidentOf),
}

func kind[V any](loader func(*Loaders) *lazyLoader[int64, *V]) nodeKind {
	return kindAs(loader, func(v *V) *V { return v })
}

// kindAs is kind for a type whose loader returns a store row that the
// schema binds through a graph/model type (as converts it).
func kindAs[V, W any](loader func(*Loaders) *lazyLoader[int64, *V], as func(*V) *W) nodeKind {
	return nodeKind{goType: reflect.TypeFor[*W](), load: func(ctx context.Context, l *Loaders, id int64) func() (model.Node, error) {
		th := loader(l).Load(ctx, id)
		return func() (model.Node, error) {
			v, err := th()
			return nilIfEmpty(as(v), err)
		}
	}}
}

// nodeGoTypes names the Go types of the Node objects.
func nodeGoTypes() map[reflect.Type]string {
	m := make(map[reflect.Type]string, len(nodeKinds))
	for name, k := range nodeKinds {
		m[k.goType] = name
	}
	return m
}

// resolveNodes loads objects of any type by global ID through the loaders,
// so a list of IDs costs one statement per type. Unknown or missing IDs
// resolve to null (the loaders apply the caller's jurisdiction, so a record
// outside it is missing); malformed IDs are the caller's error. The type an
// ID names is checked against the caller's access before anything is
// loaded: an ID of a type the caller may not read resolves to null with
// its FORBIDDEN error in denied, at the ID's index.
func (r *Resolver) resolveNodes(ctx context.Context, ids []string) (out []model.Node, denied []error, err error) {
	if len(ids) > maxNodes {
		return nil, nil, canon.Errorf(canon.BadUserInput, "at most %d ids per call, got %d", maxNodes, len(ids))
	}
	p := auth.From(ctx)
	if p == nil || r.access == nil {
		return nil, nil, canon.Errorf(canon.Unauthenticated, "authentication required")
	}
	l := r.loaders(ctx)
	denied = make([]error, len(ids))
	type pending struct {
		i     int
		thunk func() (model.Node, error)
	}
	waits := make([]pending, 0, len(ids))
	for i, s := range ids {
		typ, id, err := parseGlobalID(s)
		if err != nil {
			return nil, nil, err
		}
		k, ok := nodeKinds[typ]
		if !ok {
			continue // an ID of a type that no longer exists: null
		}
		if err := r.access.mayRead(p, typ); err != nil {
			denied[i] = err
			continue
		}
		waits = append(waits, pending{i, k.load(ctx, l, id)})
	}
	out = make([]model.Node, len(ids))
	for _, w := range waits {
		n, err := w.thunk()
		if err != nil {
			return nil, nil, err
		}
		out[w.i] = n
	}
	return out, denied, nil
}

// nilIfEmpty turns a typed nil pointer into an untyped nil Node, so that a
// missing row marshals as null.
func nilIfEmpty[T any](v *T, err error) (model.Node, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}
