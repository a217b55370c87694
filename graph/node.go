package graph

import (
	"context"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/ywtg/hub/auth"
	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/graph/model"
)

// maxNodes bounds Query.nodes like a page.
const maxNodes = 500

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
	l := r.loaders(ctx)
	p := auth.From(ctx)
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
		if err := mayRead(p, typ); err != nil {
			denied[i] = err
			continue
		}
		var th func() (model.Node, error)
		switch typ {
		case typeRegion:
			th = node(ctx, l.Region, id)
		case typeCase:
			th = node(ctx, l.Case, id)
		case typePerson:
			th = node(ctx, l.Person, id)
		case typeHousehold:
			th = node(ctx, l.Household, id)
		case typeGridWorker:
			th = node(ctx, l.GridWorker, id)
		case typePartyOrg:
			th = node(ctx, l.PartyOrg, id)
		case typePartyMember:
			th = node(ctx, l.PartyMember, id)
		case typeStation:
			th = node(ctx, l.Station, id)
		case typeIncident:
			th = node(ctx, l.Incident, id)
		default:
			continue // an ID of a type that no longer exists: null
		}
		waits = append(waits, pending{i, th})
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

// node queues a load and returns its thunk as a Node thunk.
func node[V any](ctx context.Context, l *dataloader.Loader[int64, *V], id int64) func() (model.Node, error) {
	th := l.Load(ctx, id)
	return func() (model.Node, error) { return nilIfEmpty(th()) }
}

// nilIfEmpty turns a typed nil pointer into an untyped nil Node, so that a
// missing row marshals as null.
func nilIfEmpty[T any](v *T, err error) (model.Node, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}
