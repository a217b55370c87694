package model

import (
	"time"

	"github.com/ywtg/hub/store"
)

// RegionIndicators is a region's indicators for one period beside the
// period before it; Filter and AsOf select the period's cases for its
// breakdowns.
type RegionIndicators struct {
	Period         *IndicatorPeriod
	PreviousPeriod *IndicatorPeriod
	AsOf           time.Time
	Current        *store.Indicators
	Previous       *store.Indicators
	Filter         store.CaseFilter // the region's subtree and the period
}
