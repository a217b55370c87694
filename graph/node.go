package graph

import (
	"context"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/graph/model"
)

// maxNodes bounds Query.nodes like a page.
const maxNodes = 500

// resolveNodes loads objects of any type by global ID through the loaders,
// so a list of IDs costs one statement per type. Unknown or missing IDs
// resolve to null; malformed IDs are the caller's error.
func (r *Resolver) resolveNodes(ctx context.Context, ids []string) ([]model.Node, error) {
	if len(ids) > maxNodes {
		return nil, canon.Errorf(canon.BadUserInput, "at most %d ids per call, got %d", maxNodes, len(ids))
	}
	l := r.loaders(ctx)
	type pending struct {
		i     int
		thunk func() (model.Node, error)
	}
	waits := make([]pending, 0, len(ids))
	for i, s := range ids {
		typ, id, err := parseGlobalID(s)
		if err != nil {
			return nil, err
		}
		switch typ {
		case typeRegion:
			th := l.Region.Load(ctx, id)
			waits = append(waits, pending{i, func() (model.Node, error) { return nilIfEmpty(th()) }})
		case typeCase:
			th := l.Case.Load(ctx, id)
			waits = append(waits, pending{i, func() (model.Node, error) { return nilIfEmpty(th()) }})
		}
	}
	out := make([]model.Node, len(ids))
	for _, p := range waits {
		n, err := p.thunk()
		if err != nil {
			return nil, err
		}
		out[p.i] = n
	}
	return out, nil
}

// nilIfEmpty turns a typed nil pointer into an untyped nil Node, so that a
// missing row marshals as null.
func nilIfEmpty[T any](v *T, err error) (model.Node, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}
