package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/ywtg/hub/canon"
)

// Rate names one rate of Indicators, the terms of a composite score.
type Rate string

// The rates a score may weigh.
const (
	RateClosing        Rate = "CLOSING_RATE"          // 结案率
	RateOnTimeClosing  Rate = "ON_TIME_CLOSING_RATE"  // 按期结案率
	RateLateClosing    Rate = "LATE_CLOSING_RATE"     // 超期结案率
	RateDisposal       Rate = "DISPOSAL_RATE"         // 处置率
	RateOnTimeDisposal Rate = "ON_TIME_DISPOSAL_RATE" // 按期处置率
	RateRework         Rate = "REWORK_RATE"           // 返工率
	RateDeferral       Rate = "DEFERRAL_RATE"         // 延期率
)

// Of returns the rate r of x (nil when its denominator is zero).
func (r Rate) Of(x Indicators) (*float64, error) {
	switch r {
	case RateClosing:
		return x.ClosingRate(), nil
	case RateOnTimeClosing:
		return x.OnTimeClosingRate(), nil
	case RateLateClosing:
		return x.LateClosingRate(), nil
	case RateDisposal:
		return x.DisposalRate(), nil
	case RateOnTimeDisposal:
		return x.OnTimeDisposalRate(), nil
	case RateRework:
		return x.ReworkRate(), nil
	case RateDeferral:
		return x.DeferralRate(), nil
	}
	return nil, canon.Errorf(canon.BadUserInput, "unknown rate %q", r)
}

// ScoreTerm is one weighted term of a composite score: Weight × rate, or
// Weight × (1 − rate) when Inverse (for rates where less is better).
type ScoreTerm struct {
	Rate    Rate
	Weight  float64
	Inverse bool
}

// ScorePreset is a named composite score (综合指标值). Its weights are local
// policy, not a standard: a centre picks or defines its own.
type ScorePreset struct {
	Name        string
	Description string
	Terms       []ScoreTerm
}

// Score is Σ weight × term over the terms whose rate is defined, scaled to
// the full weight when some are not (a department without reworkable cases
// is not marked down for it); nil when none is defined.
func Score(terms []ScoreTerm, x Indicators) (*float64, error) {
	var sum, used, total float64
	for _, t := range terms {
		if t.Weight < 0 {
			return nil, canon.Errorf(canon.BadUserInput, "weight of %s must not be negative", t.Rate)
		}
		total += t.Weight
		r, err := t.Rate.Of(x)
		if err != nil {
			return nil, err
		}
		if r == nil {
			continue
		}
		v := *r
		if t.Inverse {
			v = 1 - v
		}
		sum += t.Weight * v
		used += t.Weight
	}
	if used == 0 {
		return nil, nil
	}
	s := sum * total / used
	return &s, nil
}

// ScorePresets are the composite scores the hub ships, by name.
//
// CITY_MGMT is the department assessment of a digital city-management
// centre (数字城管 专业部门考核), weighted on the closing indicators of
// GB/T 30428.4 as city centres commonly apply them: 按期结案率 × 50 +
// 结案率 × 30 + (1 − 返工率) × 10 + (1 − 延期率) × 10, out of 100.
//
// GRID_GOV is the grid-event assessment of a comprehensive governance
// centre (综治 网格事件考核), weighted on disposal, since most grid events
// are disposed in the grid or the community: 按期处置率 × 40 + 处置率 × 30 +
// 结案率 × 20 + (1 − 返工率) × 10, out of 100.
var ScorePresets = map[string]ScorePreset{
	"CITY_MGMT": {Name: "CITY_MGMT", Description: "数字城管专业部门考核：按期结案率×50 + 结案率×30 + (1−返工率)×10 + (1−延期率)×10",
		Terms: []ScoreTerm{{RateOnTimeClosing, 50, false}, {RateClosing, 30, false}, {RateRework, 10, true}, {RateDeferral, 10, true}}},
	"GRID_GOV": {Name: "GRID_GOV", Description: "综治网格事件考核：按期处置率×40 + 处置率×30 + 结案率×20 + (1−返工率)×10",
		Terms: []ScoreTerm{{RateOnTimeDisposal, 40, false}, {RateDisposal, 30, false}, {RateClosing, 20, false}, {RateRework, 10, true}}},
}

// DefaultScorePreset is the preset used when none is named.
const DefaultScorePreset = "CITY_MGMT"

// LoadScorePresets reads presets from JSON — a list of {"name",
// "description", "terms": [{"rate", "weight", "inverse"}]} — and returns
// them beside the shipped ones (a preset of the same name replaces the
// shipped one). Unknown rates, negative or all-zero weights and unnamed or
// repeated presets are refused.
func LoadScorePresets(data []byte) (map[string]ScorePreset, error) {
	var in []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Terms       []struct {
			Rate    Rate    `json:"rate"`
			Weight  float64 `json:"weight"`
			Inverse bool    `json:"inverse"`
		} `json:"terms"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("score presets: %w", err)
	}
	out := maps.Clone(ScorePresets)
	seen := map[string]bool{}
	for i, p := range in {
		if strings.TrimSpace(p.Name) == "" {
			return nil, fmt.Errorf("score presets: preset %d has no name", i+1)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("score presets: %s given twice", p.Name)
		}
		seen[p.Name] = true
		sp := ScorePreset{Name: p.Name, Description: p.Description}
		var total float64
		for _, t := range p.Terms {
			if _, err := t.Rate.Of(Indicators{}); err != nil {
				return nil, fmt.Errorf("score presets: %s: unknown rate %q", p.Name, t.Rate)
			}
			if t.Weight < 0 {
				return nil, fmt.Errorf("score presets: %s: weight of %s is negative", p.Name, t.Rate)
			}
			total += t.Weight
			sp.Terms = append(sp.Terms, ScoreTerm{Rate: t.Rate, Weight: t.Weight, Inverse: t.Inverse})
		}
		if total == 0 {
			return nil, fmt.Errorf("score presets: %s weighs nothing", p.Name)
		}
		out[p.Name] = sp
	}
	return out, nil
}
