package resolve

import (
	"github.com/ywtg/hub/address"
)

// Building resolves a source address to a building with the address
// service: the address as written first; when that finds no building and
// the source record itself says where it lies (a governance house's grid,
// given as the names of its street and community in hint), again with the
// components the text leaves out taken from the hint. A text naming a
// street with two compounds of one name (樊城区汉江街道枫林公馆1栋) is
// ambiguous to the gazetteer alone and resolved by the house's community;
// the hint never overrides what the text names.
func Building(g *address.Gazetteer, raw string, hint address.Address) address.Match {
	return buildingOf(g, address.Parse(raw), hint)
}

// buildingOf is Building for an address parsed already. Only an address
// that names a compound can match a building or a compound
// (address.Gazetteer.Match), so one that names none is not matched again
// with the hint: that second match would find what the first found.
func buildingOf(g *address.Gazetteer, a address.Address, hint address.Address) address.Match {
	m := g.Match(a)
	if m.BuildingID != "" || a.Compound == "" || (hint.Street == "" && hint.Community == "") {
		return m
	}
	filled := false
	if a.District == "" && hint.District != "" {
		a.District, filled = hint.District, true
	}
	if a.Street == "" && hint.Street != "" {
		a.Street, filled = hint.Street, true
	}
	if a.Community == "" && hint.Community != "" {
		a.Community, filled = hint.Community, true
	}
	if !filled {
		return m
	}
	if m2 := g.Match(a); m2.BuildingID != "" {
		m2.Explanation += "; regions the text leaves out taken from the source record"
		return m2
	}
	return m
}
