package model

import "github.com/ywtg/hub/store"

// StandardAddress is an address standardised by Query.standardizeAddress,
// with the matched regions and building already loaded (nil where nothing
// matched or the caller may not see it).
type StandardAddress struct {
	Raw         string
	Normalized  string
	Components  *AddressComponents
	Repairs     []string
	District    *store.Region
	Street      *store.Region
	Community   *store.Region
	Grid        *store.Region
	Compound    *string
	Building    *store.Building
	Confidence  float64
	Explanation string
}
