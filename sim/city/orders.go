package city

import (
	"cmp"
	"slices"
	"sort"
)

// Paging orders kept up to date under live change.
const (
	ordGrids = iota
	ordWorkers
	ordHouses
	ordResidents
	ordEvents
	ordCityUpdated
	numOrders
)

func orderOf(e Entity) int {
	switch e {
	case GovGrids:
		return ordGrids
	case GovWorkers:
		return ordWorkers
	case GovHouses:
		return ordHouses
	case GovResidents:
		return ordResidents
	case GovEvents:
		return ordEvents
	case CityRequests:
		return ordCityUpdated
	}
	return -1
}

// rec returns the record state of index i of an ordered entity.
func (c *City) rec(o int, i int32) *Rec {
	switch o {
	case ordGrids:
		return &c.gridMeta[i]
	case ordWorkers:
		return &c.Workers[i].Rec
	case ordHouses:
		return &c.Households[i].Rec
	case ordResidents:
		return &c.People[i].Rec
	case ordEvents:
		return &c.GovEvents[i].Rec
	default:
		return &c.CityCases[i].Rec
	}
}

func (c *City) size(o int) int {
	switch o {
	case ordGrids:
		return len(c.Grids)
	case ordWorkers:
		return len(c.Workers)
	case ordHouses:
		return len(c.Households)
	case ordResidents:
		return len(c.People)
	case ordEvents:
		return len(c.GovEvents)
	default:
		return len(c.CityCases)
	}
}

func (c *City) buildOrders() {
	for o := range numOrders {
		n := c.size(o)
		ord := make([]int32, 0, n+n/40)
		for i := range n {
			ord = append(ord, int32(i))
			if c.rec(o, int32(i)).Def == KDuplicate {
				ord = append(ord, int32(i))
			}
		}
		slices.SortStableFunc(ord, func(a, b int32) int {
			if x := cmp.Compare(c.rec(o, a).Updated, c.rec(o, b).Updated); x != 0 {
				return x
			}
			return cmp.Compare(a, b)
		})
		c.orders[o] = ord
	}
	c.open = [2][]int32{}
	for i := range c.GovEvents {
		if c.caseOpen(true, &c.GovEvents[i]) {
			c.open[0] = append(c.open[0], int32(i))
		}
	}
	for i := range c.CityCases {
		if c.caseOpen(false, &c.CityCases[i]) {
			c.open[1] = append(c.open[1], int32(i))
		}
	}
}

// search returns the first position in order o whose key (updated, index)
// is greater than (t, i).
func (c *City) search(o int, t int64, i int32) int {
	ord := c.orders[o]
	return sort.Search(len(ord), func(k int) bool {
		u := c.rec(o, ord[k]).Updated
		return u > t || (u == t && ord[k] > i)
	})
}

// Page selects records of a governance resource or the city-management
// requests in (update time, id) order: those with update time after
// afterTime (unix seconds, exclusive) — or, when afterIdx ≥ 0, with
// (update time, index) after (afterTime, afterIdx) — skipping offset and
// returning at most limit indices. total counts every selected record.
// Records carrying a duplicate defect are listed twice. The caller holds
// RLock.
func (c *City) Page(e Entity, afterTime int64, afterIdx int32, offset, limit int) (total int, idx []int32) {
	o := orderOf(e)
	if o < 0 {
		return 0, nil
	}
	if afterIdx < 0 {
		afterIdx = int32(c.size(o)) + 1 // past every index: strictly after afterTime
	}
	start := c.search(o, afterTime, afterIdx)
	ord := c.orders[o]
	total = len(ord) - start
	lo := min(start+offset, len(ord))
	hi := min(lo+limit, len(ord))
	return total, ord[lo:hi]
}

// touch moves record i of order o to the end after its update time was
// set to now (later than every key in the order).
func (c *City) touch(o int, i int32, old int64) {
	ord := c.orders[o]
	k := sort.Search(len(ord), func(k int) bool {
		u := c.rec(o, ord[k]).Updated
		if ord[k] == i {
			u = old
		}
		return u > old || (u == old && ord[k] >= i)
	})
	n := 0
	for k+n < len(ord) && ord[k+n] == i {
		n++
	}
	if n == 0 {
		n = 1 // a record new to the order
	} else {
		ord = append(ord[:k], ord[k+n:]...)
	}
	c.orders[o] = ord
	// The new key is at least every other key: insert among the records
	// of the same second by index.
	u := c.rec(o, i).Updated
	pos := len(ord)
	for pos > 0 {
		p := ord[pos-1]
		pu := c.rec(o, p).Updated
		if pu < u || (pu == u && p < i) {
			break
		}
		pos--
	}
	for range n {
		ord = append(ord, 0)
	}
	copy(ord[pos+n:], ord[pos:])
	for j := range n {
		ord[pos+j] = i
	}
	c.orders[o] = ord
}

// CityByRequested returns the indices of city-management cases requested
// within [from, to] (unix seconds, inclusive), newest first. Cases are
// kept in requested order, so this is a binary search. The caller holds
// RLock.
func (c *City) CityByRequested(from, to int64) (lo, hi int) {
	cs := c.CityCases
	lo = sort.Search(len(cs), func(i int) bool { return cs[i].Reported >= from })
	hi = sort.Search(len(cs), func(i int) bool { return cs[i].Reported > to })
	return lo, hi
}
