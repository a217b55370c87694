package resolve

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/ywtg/hub/address"
	"github.com/ywtg/hub/store"
)

// BuildingsLinked is what LinkBuildings read and wrote.
type BuildingsLinked struct {
	Read       int // addresses resolved
	ToBuilding int // of them, to a building
	ToCompound int // to a compound only
	// AllCases: the cases were linked in full (the first linking of
	// cases, or one after it was interrupted), not from their queue.
	AllCases bool
}

// Plus adds what another linking read and wrote.
func (l BuildingsLinked) Plus(o BuildingsLinked) BuildingsLinked {
	return BuildingsLinked{Read: l.Read + o.Read, ToBuilding: l.ToBuilding + o.ToBuilding, ToCompound: l.ToCompound + o.ToCompound,
		AllCases: l.AllCases || o.AllCases}
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
// stores the links (store.SaveBuildingLinks).
//
// Members' homes and stations are looked at in full: every record whose
// address has no link or changed since, and with retry also those whose
// address names a compound but was linked to no building (after the known
// buildings changed). Cases are many, and most of their addresses name a
// road, which leaves them without a link (store.BuildingLink.Kept): the
// first linking looks at every case, the next ones at the cases the
// store queued since (inserted, or changed in address or grid), and with
// retry at the cases whose address names a compound but is linked to no
// building (store.BeginCaseLinking). A record deleted takes its link with
// it (migration 053). The context decides the access: internal work, so
// store.Unscoped.
func LinkBuildings(ctx context.Context, st *store.Store, g *address.Gazetteer, kinds []string, retry bool) (BuildingsLinked, error) {
	var out BuildingsLinked
	for _, kind := range kinds {
		var err error
		if kind == store.LinkCase {
			err = linkCases(ctx, st, g, retry, &out)
		} else {
			err = linkAll(ctx, st, g, kind, retry, &out)
		}
		if err != nil {
			return out, fmt.Errorf("link buildings: %w", err)
		}
	}
	return out, nil
}

// linkAll links the records of kind whose address is not linked as it
// reads (with retry, or linked to no building although it names a
// compound), in id order.
func linkAll(ctx context.Context, st *store.Store, g *address.Gazetteer, kind string, retry bool, out *BuildingsLinked) error {
	var after int64
	for {
		batch, err := st.AddressesToResolve(ctx, kind, after, linkBatch, retry)
		if err != nil {
			return err
		}
		if err := link(ctx, st, g, batch, out); err != nil {
			return err
		}
		if len(batch) < linkBatch {
			return nil
		}
		after = batch[len(batch)-1].ID
	}
}

// linkCases links the cases' addresses: every case's in the first
// linking, else the queue's, then with retry the cases' whose address
// names a compound but found no building. The queue's entries are taken
// once their cases are linked: a linking interrupted leaves them queued.
func linkCases(ctx context.Context, st *store.Store, g *address.Gazetteer, retry bool, out *BuildingsLinked) error {
	all, err := st.BeginCaseLinking(ctx)
	if err != nil {
		return err
	}
	if all {
		out.AllCases = true
		if err := linkAll(ctx, st, g, store.LinkCase, retry, out); err != nil {
			return err
		}
		return st.CaseAddressesLinked(ctx)
	}
	q, err := st.CaseAddressQueue(ctx)
	if err != nil {
		return err
	}
	for ids := range slices.Chunk(q.IDs, linkBatch) {
		batch, err := st.CaseAddresses(ctx, ids)
		if err != nil {
			return err
		}
		if err := link(ctx, st, g, batch, out); err != nil {
			return err
		}
	}
	if retry {
		var after int64
		for {
			batch, err := st.CaseAddressesToRetry(ctx, after, linkBatch)
			if err != nil {
				return err
			}
			if err := link(ctx, st, g, batch, out); err != nil {
				return err
			}
			if len(batch) < linkBatch {
				break
			}
			after = batch[len(batch)-1].ID
		}
	}
	return st.TakeCaseAddressQueue(ctx, q.Seqs)
}

// link resolves a batch of addresses and saves their links.
func link(ctx context.Context, st *store.Store, g *address.Gazetteer, batch []store.AddressToResolve, out *BuildingsLinked) error {
	if len(batch) == 0 {
		return nil
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
		return err
	}
	out.Read += len(batch)
	return nil
}

// linkOf resolves one record's address.
func linkOf(g *address.Gazetteer, a store.AddressToResolve) store.BuildingLink {
	l := store.BuildingLink{Kind: a.Kind, ID: a.ID, Address: a.Address, Linked: a.Linked}
	// Parsed once: for the building and for whether the address names a
	// compound (most case addresses are roads that name none).
	parsed := address.Parse(a.Address)
	l.NamesCompound = parsed.Compound != "" || parsed.Building != ""
	if !l.Kept() {
		// Naming no compound, it can match no building or compound
		// (buildingOf), and the link is not stored.
		return l
	}
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
