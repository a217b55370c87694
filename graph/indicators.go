package graph

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ywtg/hub/canon"
	"github.com/ywtg/hub/graph/model"
	"github.com/ywtg/hub/store"
)

// scorePresets are the composite scores the resolver knows: its own, else
// the shipped ones.
func (r *Resolver) scorePresets() map[string]store.ScorePreset {
	if r.ScorePresets != nil {
		return r.ScorePresets
	}
	return store.ScorePresets
}

// scoreTerms resolves a score's terms: the weights given, else the preset
// named, else the default preset.
func (r *Resolver) scoreTerms(preset *string, weights []*model.ScoreWeightInput) ([]store.ScoreTerm, error) {
	if preset != nil && weights != nil {
		return nil, canon.Errorf(canon.BadUserInput, "give a preset or weights, not both")
	}
	if weights != nil {
		terms := make([]store.ScoreTerm, len(weights))
		for i, w := range weights {
			terms[i] = store.ScoreTerm{Rate: w.Rate, Weight: w.Weight, Inverse: w.Inverse != nil && *w.Inverse}
		}
		return terms, nil
	}
	name := store.DefaultScorePreset
	if preset != nil {
		name = *preset
	}
	p, ok := r.scorePresets()[name]
	if !ok {
		return nil, canon.Errorf(canon.BadUserInput, "unknown score preset %q", name)
	}
	return p.Terms, nil
}

// period returns the period of unit that contains t, China time, and its label.
func period(unit model.PeriodUnit, t time.Time) (*model.IndicatorPeriod, error) {
	t = t.In(canon.ChinaTime)
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, canon.ChinaTime)
	p := &model.IndicatorPeriod{Unit: unit}
	switch unit {
	case model.PeriodUnitDay:
		p.From, p.To, p.Label = day, day.AddDate(0, 0, 1), day.Format(time.DateOnly)
	case model.PeriodUnitWeek:
		from := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		wy, w := from.ISOWeek()
		p.From, p.To, p.Label = from, from.AddDate(0, 0, 7), fmt.Sprintf("%d-W%02d", wy, w)
	case model.PeriodUnitMonth:
		from := time.Date(y, m, 1, 0, 0, 0, 0, canon.ChinaTime)
		p.From, p.To, p.Label = from, from.AddDate(0, 1, 0), from.Format("2006-01")
	case model.PeriodUnitQuarter:
		q := (int(m) - 1) / 3
		from := time.Date(y, time.Month(q*3+1), 1, 0, 0, 0, 0, canon.ChinaTime)
		p.From, p.To, p.Label = from, from.AddDate(0, 3, 0), fmt.Sprintf("%d-Q%d", y, q+1)
	default:
		return nil, canon.Errorf(canon.BadUserInput, "unknown period %q", unit)
	}
	return p, nil
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// regionIndicators evaluates a region's period and the one before, the two
// statements side by side.
func (r *Resolver) regionIndicators(ctx context.Context, regionID int64, unit model.PeriodUnit, at, asOf *time.Time, filter *model.CaseFilter) (*model.RegionIndicators, error) {
	f, err := r.expandedCaseFilter(ctx, filter)
	if err != nil {
		return nil, err
	}
	if f.ReportedFrom != nil || f.ReportedTo != nil {
		return nil, canon.Errorf(canon.BadUserInput, "the period sets the report window: leave reportedFrom and reportedTo out of the filter")
	}
	now := time.Now()
	t := now
	if at != nil {
		t = *at
	}
	cur, err := period(unit, t)
	if err != nil {
		return nil, err
	}
	prev, err := period(unit, cur.From.Add(-time.Nanosecond))
	if err != nil {
		return nil, err
	}
	eval := earlier(now, cur.To)
	if asOf != nil {
		eval = *asOf
	}
	f.Within = append(f.Within, regionID)
	out := &model.RegionIndicators{Period: cur, PreviousPeriod: prev, AsOf: eval}
	cf, pf := f, f
	cf.ReportedFrom, cf.ReportedTo = &cur.From, &cur.To
	pf.ReportedFrom, pf.ReportedTo = &prev.From, &prev.To
	pf.Within = slices.Clone(f.Within)
	var wg sync.WaitGroup
	var perr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		var b []store.IndicatorBucket
		b, perr = r.Store.CaseIndicators(ctx, pf, earlier(eval, prev.To), nil, indicatorOptions(ctx, "previous"))
		if perr == nil {
			out.Previous = &b[0].Indicators
		}
	}()
	b, err := r.Store.CaseIndicators(ctx, cf, eval, nil, indicatorOptions(ctx, "current"))
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	out.Current = &b[0].Indicators
	out.Filter = cf
	return out, nil
}

// indicatorOptions asks for the working hours only where the selection
// under field (of RegionIndicators or IndicatorBucket) reads them.
func indicatorOptions(ctx context.Context, field string) store.IndicatorOptions {
	return store.IndicatorOptions{WorkHours: selectedFields(ctx, field)["avgWorkHoursToClose"]}
}

// indicatorBuckets labels indicator buckets like case statistics and, with
// rankBy, orders them by that preset's score, best first (buckets without a
// score last), and ranks them.
func (r *Resolver) indicatorBuckets(ctx context.Context, dims []store.Dimension, buckets []store.IndicatorBucket, rankBy *string) ([]*model.IndicatorBucket, error) {
	keys := make([]store.Bucket, len(buckets))
	for i, b := range buckets {
		keys[i] = store.Bucket{Values: b.Values}
	}
	labelled, err := r.caseBuckets(ctx, dims, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*model.IndicatorBucket, len(buckets))
	for i := range buckets {
		out[i] = &model.IndicatorBucket{Key: labelled[i].Key, Indicators: &buckets[i].Indicators}
	}
	if rankBy == nil {
		return out, nil
	}
	terms, err := r.scoreTerms(rankBy, nil)
	if err != nil {
		return nil, err
	}
	scores := make(map[*model.IndicatorBucket]*float64, len(out))
	for _, b := range out {
		if scores[b], err = store.Score(terms, *b.Indicators); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(out, func(a, b *model.IndicatorBucket) int {
		sa, sb := scores[a], scores[b]
		switch {
		case sa == nil && sb == nil:
			return 0
		case sa == nil:
			return 1
		case sb == nil:
			return -1
		}
		return cmp.Compare(*sb, *sa)
	})
	for i, b := range out {
		if scores[b] != nil {
			rank := i + 1
			b.Rank = &rank
		}
	}
	return out, nil
}

// indicatorProperties are the fields of Indicators, as a map feature's
// properties carry them.
func indicatorProperties(x store.Indicators) map[string]any {
	return map[string]any{
		"reported": x.Reported, "filed": x.Filed, "voided": x.Voided, "accurateFiled": x.AccurateFiled(),
		"suspended": x.Suspended, "dueForDisposal": x.DueForDisposal, "disposed": x.Disposed,
		"disposedOnTime": x.DisposedOnTime, "dueForClosing": x.DueForClosing, "closed": x.Closed,
		"closedOnTime": x.ClosedOnTime, "closedLate": x.ClosedLate, "unclosed": x.Unclosed(),
		"reworked": x.Reworked, "reworks": x.Reworks, "deferred": x.Deferred,
		"overdueUndisposed": x.OverdueUndisposed, "closingRate": x.ClosingRate(),
		"onTimeClosingRate": x.OnTimeClosingRate(), "lateClosingRate": x.LateClosingRate(),
		"disposalRate": x.DisposalRate(), "onTimeDisposalRate": x.OnTimeDisposalRate(),
		"reworkRate": x.ReworkRate(), "deferralRate": x.DeferralRate(),
		"avgWorkHoursToClose": x.AvgWorkHoursToClose,
	}
}

// regionMap builds the GeoJSON FeatureCollection of Query.regionMap.
func (r *Resolver) regionMap(ctx context.Context, parent *string, level *canon.RegionLevel, unit *model.PeriodUnit, at *time.Time) (json.RawMessage, error) {
	top, regions, err := r.Store.MapRegions(ctx, parent, level)
	if err != nil {
		return nil, err
	}
	var byID map[string]store.Indicators
	if unit != nil {
		t := time.Now()
		if at != nil {
			t = *at
		}
		p, err := period(*unit, t)
		if err != nil {
			return nil, err
		}
		lvl := canon.RegionLevels[top.Level.Depth()+1]
		if len(regions) > 0 {
			lvl = regions[0].Level
		}
		dim, _ := store.RegionDimension(lvl)
		buckets, err := r.Store.CaseIndicators(ctx, store.CaseFilter{RegionID: &top.ID, ReportedFrom: &p.From, ReportedTo: &p.To},
			earlier(time.Now(), p.To), []store.Dimension{dim}, store.IndicatorOptions{WorkHours: true})
		if err != nil {
			return nil, err
		}
		byID = make(map[string]store.Indicators, len(buckets))
		for _, b := range buckets {
			if b.Values[0] != nil {
				byID[*b.Values[0]] = b.Indicators
			}
		}
	}
	type feature struct {
		Type       string          `json:"type"`
		ID         string          `json:"id"`
		Properties map[string]any  `json:"properties"`
		Geometry   json.RawMessage `json:"geometry"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection", Features: make([]feature, 0, len(regions))}
	for _, reg := range regions {
		geom := reg.Boundary
		if len(geom) == 0 {
			geom = json.RawMessage("null")
		}
		props := map[string]any{"code": reg.Code, "name": reg.Name, "level": reg.Level, "id": globalID(typeRegion, reg.ID)}
		if byID != nil {
			props["indicators"] = indicatorProperties(byID[strconv.FormatInt(reg.ID, 10)])
		}
		fc.Features = append(fc.Features, feature{Type: "Feature", ID: reg.Code, Properties: props, Geometry: geom})
	}
	b, err := json.Marshal(fc)
	if err != nil {
		return nil, fmt.Errorf("region map: %w", err)
	}
	return b, nil
}
