package graph

import (
	"context"
	"strconv"

	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
)

// Chinese labels of the unified enumerations, for statistics keys.
var (
	statusLabels = map[string]string{
		"REPORTED": "上报", "ACCEPTED": "受理", "FILED": "立案", "DISPATCHED": "派遣", "IN_PROGRESS": "处置",
		"RESOLVED": "办结", "VERIFYING": "核查", "CLOSED": "结案", "REJECTED": "作废", "RETURNED": "回退",
		"DEFERRED": "延期", "SUSPENDED": "挂账", "REOPENED": "返工",
	}
	tierLabels = map[string]string{"GRID": "网格", "COMMUNITY": "社区", "STREET": "街道", "DISTRICT": "区", "CITY": "市"}
	kindLabels = map[string]string{
		"COMPONENT": "部件", "EVENT": "事件", "DISPUTE": "矛盾纠纷", "PUBLIC_SECURITY": "治安问题",
		"RISK": "风险隐患", "HOTLINE": "热线工单",
	}
)

// caseBuckets turns store buckets into GraphQL buckets, resolving labels of
// regions, categories and sources in one batch each.
func (r *Resolver) caseBuckets(ctx context.Context, dims []store.Dimension, buckets []store.Bucket) ([]*model.CaseBucket, error) {
	l := r.loaders(ctx)
	type ref struct{ b, d int }
	var regionIDs []int64
	var regionRefs []ref
	var codes, sources []string
	var codeRefs, sourceRefs []ref
	out := make([]*model.CaseBucket, len(buckets))
	for bi, b := range buckets {
		mb := &model.CaseBucket{Key: make([]*model.BucketKey, len(dims)), Count: b.Count, Open: b.Open,
			Closed: b.Closed, Overdue: b.Overdue, AvgHoursToClose: b.AvgHoursToClose}
		for di, d := range dims {
			v := b.Values[di]
			k := &model.BucketKey{Dimension: d, Value: v}
			mb.Key[di] = k
			if v == nil {
				continue
			}
			switch {
			case d.IsRegion():
				id, err := strconv.ParseInt(*v, 10, 64)
				if err != nil {
					return nil, err
				}
				regionIDs, regionRefs = append(regionIDs, id), append(regionRefs, ref{bi, di})
			case d == store.DimCategory || d == store.DimCategoryMajor:
				codes, codeRefs = append(codes, *v), append(codeRefs, ref{bi, di})
			case d == store.DimSource:
				sources, sourceRefs = append(sources, *v), append(sourceRefs, ref{bi, di})
			case d == store.DimStatus:
				k.Label = label(statusLabels, *v)
			case d == store.DimTier:
				k.Label = label(tierLabels, *v)
			case d == store.DimKind:
				k.Label = label(kindLabels, *v)
			default:
				k.Label = v
			}
		}
		out[bi] = mb
	}
	regions, err := loadAll(ctx, &l.Region, regionIDs)
	if err != nil {
		return nil, err
	}
	for i, reg := range regions {
		k := out[regionRefs[i].b].Key[regionRefs[i].d]
		if reg != nil {
			k.Value, k.Label = &reg.Code, &reg.Name
		}
	}
	if len(codes) > 0 {
		cats, err := r.categories(ctx)
		if err != nil {
			return nil, err
		}
		for i, code := range codes {
			if c := cats[code]; c != nil {
				out[codeRefs[i].b].Key[codeRefs[i].d].Label = &c.Name
			}
		}
	}
	srcs, err := loadAll(ctx, &l.Source, sources)
	if err != nil {
		return nil, err
	}
	for i, s := range srcs {
		if s != nil && s.Description != "" {
			out[sourceRefs[i].b].Key[sourceRefs[i].d].Label = &s.Description
		}
	}
	return out, nil
}

func label(m map[string]string, v string) *string {
	if l, ok := m[v]; ok {
		return &l
	}
	return &v
}

// selectedMeasures names the aggregates selected on the buckets of the
// current caseStats field, so only those are computed.
func selectedMeasures(ctx context.Context) store.Measures {
	return measuresOf(selectedFields(ctx))
}

// measuresOf names the measures among the selected fields of a bucket.
func measuresOf(sel map[string]bool) store.Measures {
	return store.Measures{Open: sel["open"], Closed: sel["closed"], Overdue: sel["overdue"], AvgHoursToClose: sel["avgHoursToClose"]}
}
