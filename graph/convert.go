package graph

import (
	"context"
	"slices"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
)

// caseFilter converts the GraphQL filter into the store's.
func caseFilter(in *model.CaseFilter) (store.CaseFilter, error) {
	var f store.CaseFilter
	if in == nil {
		return f, nil
	}
	var err error
	if f.RegionID, f.RegionCode, err = regionArg(in.Region, in.RegionCode); err != nil {
		return f, err
	}
	if in.ReportedFrom != nil && in.ReportedTo != nil && !in.ReportedFrom.Before(*in.ReportedTo) {
		return f, canon.Errorf(canon.BadUserInput, "reportedFrom must be before reportedTo")
	}
	f.Status, f.Tier, f.Source, f.Category, f.Kind = in.Status, in.Tier, in.Source, in.Category, in.Kind
	f.ReportedFrom, f.ReportedTo, f.Overdue = in.ReportedFrom, in.ReportedTo, in.Overdue
	if in.Text != nil {
		f.Text = *in.Text
	}
	return f, nil
}

// expandedCaseFilter is caseFilter with its category classes expanded to
// the unified codes they match (each class and its minor classes), from the
// request's category table (CategoryCodes): the store's statement then names
// the codes, which PostgreSQL plans in half the time and for their own
// frequencies. Classes that match no code are left to the store, where they
// match no case. A subscription's filter is not expanded: it outlives the
// table.
func (r *Resolver) expandedCaseFilter(ctx context.Context, in *model.CaseFilter) (store.CaseFilter, error) {
	f, err := caseFilter(in)
	if err != nil || len(f.Category) == 0 {
		return f, err
	}
	table, err := r.categories(ctx)
	if err != nil {
		return f, err
	}
	want := make(map[string]bool, len(f.Category))
	for _, c := range f.Category {
		want[c] = true
	}
	var codes []string
	for code, c := range table {
		if want[code] || c.ParentCode != nil && want[*c.ParentCode] {
			codes = append(codes, code)
		}
	}
	if len(codes) > 0 {
		slices.Sort(codes)
		f.Category, f.CategoryCodes = nil, codes
	}
	return f, nil
}

// caseOrder converts the GraphQL order; the default is newest report first.
func caseOrder(in *model.CaseOrder) store.CaseOrder {
	if in == nil {
		return store.CaseOrder{Field: store.OrderReportedAt, Desc: true}
	}
	return store.CaseOrder{Field: store.CaseOrderField(in.Field), Desc: in.Direction == model.OrderDirectionDesc}
}

// loadSource loads a source by name; a row that vanished is an internal
// inconsistency, not a null.
func (r *Resolver) loadSource(ctx context.Context, name string) (*store.Source, error) {
	s, err := r.loaders(ctx).Source.Get(ctx, name)
	if err == nil && s == nil {
		return &store.Source{Name: name, Status: store.SourceNeverSynced}, nil
	}
	return s, err
}

// loadSources loads the sources of many parents.
func (r *Resolver) loadSources(ctx context.Context, names []string) ([]*store.Source, error) {
	srcs, err := loadAll(ctx, &r.loaders(ctx).Source, names)
	if err != nil {
		return nil, err
	}
	for i, s := range srcs {
		if s == nil {
			srcs[i] = &store.Source{Name: names[i], Status: store.SourceNeverSynced}
		}
	}
	return srcs, nil
}
