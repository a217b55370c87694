package resolve

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/store"
)

// BuildingsLinked is what LinkBuildings read and wrote.
type BuildingsLinked struct {
	Read       int // addresses resolved
	ToBuilding int // of them, to a building
	ToCompound int // to a compound only
	Pruned     int64
}

// Plus adds what another linking read and wrote.
func (l BuildingsLinked) Plus(o BuildingsLinked) BuildingsLinked {
	return BuildingsLinked{Read: l.Read + o.Read, ToBuilding: l.ToBuilding + o.ToBuilding, ToCompound: l.ToCompound + o.ToCompound, Pruned: l.Pruned + o.Pruned}
}

// linkBatch is how many addresses LinkBuildings resolves per statement.
const linkBatch = 2000

// LinkKinds returns the kinds of record whose addresses LinkBuildings
// links, in the order it links them: party members' homes first (person
// resolution reads their links: a member's dwelling), then service
// stations and cases.
func LinkKinds() []string {
	return []string{store.LinkPartyMember, store.LinkServiceStation, store.LinkCase}
}

// LinkBuildings resolves the addresses of the records of the given kinds
// (LinkKinds: party members' homes, service stations, cases) to buildings
// (Building, with the region the record itself knows as the hint) and
// stores the links (store.SaveBuildingLinks): every record whose address
// has no link or changed since, for each kind the records after
// since[kind] (zero: all), and with retry also those whose address names a
// compound but was linked to no building (after the known buildings
// changed). It returns, per kind, the highest record id it looked at, for
// the next call's since. Deleting a record deletes its link (migration
// 053); with retry it also drops any link of those kinds whose record no
// longer exists (written before that migration), an anti-join of their
// links. The context decides the access: internal work, so
// store.Unscoped.
func LinkBuildings(ctx context.Context, st *store.Store, g *address.Gazetteer, kinds []string, since map[string]int64, retry bool) (BuildingsLinked, map[string]int64, error) {
	var out BuildingsLinked
	seen := make(map[string]int64, len(kinds))
	for _, kind := range kinds {
		after := since[kind]
		seen[kind] = after
		for {
			batch, err := st.AddressesToResolve(ctx, kind, after, linkBatch, retry)
			if err != nil {
				return out, seen, fmt.Errorf("link buildings: %w", err)
			}
			if len(batch) == 0 {
				break
			}
			links := make([]store.BuildingLink, len(batch))
			for i, a := range batch {
				links[i] = linkOf(g, a)
				switch {
				case links[i].BuildingID != nil:
					out.ToBuilding++
				case links[i].CompoundID != nil:
					out.ToCompound++
				}
			}
			if err := st.SaveBuildingLinks(ctx, links); err != nil {
				return out, seen, fmt.Errorf("link buildings: %w", err)
			}
			out.Read += len(batch)
			after = batch[len(batch)-1].ID
			seen[kind] = after
			if len(batch) < linkBatch {
				break
			}
		}
	}
	if retry {
		n, err := st.PruneBuildingLinks(ctx, kinds)
		if err != nil {
			return out, seen, fmt.Errorf("link buildings: %w", err)
		}
		out.Pruned = n
	}
	return out, seen, nil
}

// linkOf resolves one record's address.
func linkOf(g *address.Gazetteer, a store.AddressToResolve) store.BuildingLink {
	l := store.BuildingLink{Kind: a.Kind, ID: a.ID, Address: a.Address}
	// Parsed once: for the building and for whether the address names a
	// compound (most case addresses are roads that name none).
	parsed := address.Parse(a.Address)
	l.NamesCompound = parsed.Compound != "" || parsed.Building != ""
	m := buildingOf(g, parsed, g.RegionNames(a.RegionCode))
	if id, err := strconv.ParseInt(m.BuildingID, 10, 64); err == nil {
		l.BuildingID = &id
	}
	if id, err := strconv.ParseInt(m.CompoundID, 10, 64); err == nil {
		l.CompoundID = &id
	}
	l.Confidence = min(max(m.Confidence, 0), 1)
	return l
}
