package graph

import (
	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/graph/model"
)

// maxAddressInput bounds the text standardizeAddress accepts.
const maxAddressInput = 1000

// components presents parsed components, absent ones as null.
func components(a address.Address) *model.AddressComponents {
	return &model.AddressComponents{
		Province: optional(a.Province), City: optional(a.City), District: optional(a.District), Street: optional(a.Street),
		Community: optional(a.Community), Road: optional(a.Road), RoadNumber: optional(a.RoadNo), Compound: optional(a.Compound),
		Building: optional(a.Building), Unit: optional(a.Unit), Floor: optional(a.Floor), Room: optional(a.Room), Rest: optional(a.Rest),
	}
}

// optional is nil for an empty string.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
