package city

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ywtg/hub/canon"
)

// Op is the kind of a live change.
type Op uint8

// Live change operations.
const (
	OpCreate Op = iota + 1
	OpUpdate
	OpDelete
)

// String names the operation.
func (o Op) String() string {
	switch o {
	case OpCreate:
		return "create"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return "none"
}

// Change is one live change applied to the city: a record of an entity
// created, updated or (soft-)deleted.
type Change struct {
	Entity Entity
	Index  int32
	Op     Op
	At     time.Time
}

type liveState struct {
	rng  *rand.Rand
	ids  *idAllocator
	last int64
	n    int64
}

func (l *liveState) init(c *City) {
	l.rng = stream(c.cfg.Seed, 99)
	l.ids = newIDAllocator()
	// Re-register the generated IDs so new ones stay unique.
	for i := range c.People {
		id := c.People[i].ID
		for pi, p := range l.ids.places {
			if p == id[:6] {
				b, _ := time.ParseInLocation("20060102", id[6:14], CST)
				day := int(b.Unix()/86400 - l.ids.day0)
				sex := 0
				if !male(id) {
					sex = 1
				}
				l.ids.next[(pi*l.ids.days+day)*2+sex]++
				break
			}
		}
	}
	l.last = c.cfg.Reference.Unix()
}

// Clock tells the simulators the time. The generated history ends at the
// reference instant; live changes happen at the clock's now.
type Clock interface {
	Now() time.Time
}

// ManualClock is a clock that moves only when told; safe for concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock standing at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's time.
func (m *ManualClock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Advance moves the clock forward by d.
func (m *ManualClock) Advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}

// Set sets the clock.
func (m *ManualClock) Set(t time.Time) {
	m.mu.Lock()
	m.now = t
	m.mu.Unlock()
}

// WallClock runs from Start at the speed of the wall clock, beginning at
// the reference instant when the simulator starts.
type WallClock struct {
	Start  time.Time // simulated instant at Origin
	Origin time.Time // wall time when the clock started
}

// NewWallClock returns a clock that reads start now and advances in real
// time.
func NewWallClock(start time.Time) *WallClock {
	return &WallClock{Start: start, Origin: time.Now()}
}

// Now returns the simulated time.
func (w *WallClock) Now() time.Time { return w.Start.Add(time.Since(w.Origin)).In(CST) }

// Tick applies one random live change at now: a new governance event or
// city-management case, a case moving one workflow step, a resident moving
// house, being born or removed (tombstone), a party member's details
// updated or soft-deleted, or a new volunteer activity. Update times are
// set to now (never earlier than any earlier change).
func (c *City) Tick(now time.Time) Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := &c.live
	t := max(now.Unix(), l.last)
	l.last = t
	l.n++
	rng := l.rng
	at := unix(t)
	for {
		x := rng.IntN(100)
		switch {
		case x < 20:
			return c.newGovEvent(rng, t, at)
		case x < 45:
			return c.newCityCase(rng, t, at)
		case x < 60:
			if ch, ok := c.progress(rng, 0, t, at); ok {
				return ch
			}
		case x < 80:
			if ch, ok := c.progress(rng, 1, t, at); ok {
				return ch
			}
		case x < 87:
			i := int32(rng.IntN(len(c.People)))
			p := &c.People[i]
			if p.Deleted {
				continue
			}
			old := p.Updated
			p.Household = int32(rng.IntN(len(c.Households)))
			p.Updated = t
			c.touch(ordResidents, i, old)
			return Change{GovResidents, i, OpUpdate, at}
		case x < 90:
			h := int32(rng.IntN(len(c.Households)))
			p := Person{Household: h, Rel: 2, Rec: Rec{Updated: t}}
			// a newborn (or a newcomer registered as a child) in a random household
			sTotal := 0
			for _, s := range surnames {
				sTotal += s.w
			}
			m := rng.IntN(2) == 0
			p.Name = weightedSurname(rng, sTotal) + givenName(rng, m)
			b := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, CST).AddDate(0, 0, -rng.IntN(30))
			p.ID = l.ids.id(rng.IntN(len(localBirthplaces)), b, m)
			c.People = append(c.People, p)
			i := int32(len(c.People) - 1)
			c.touch(ordResidents, i, -1)
			return Change{GovResidents, i, OpCreate, at}
		case x < 93:
			i := int32(rng.IntN(len(c.People)))
			p := &c.People[i]
			if p.Deleted || p.Roles != 0 {
				continue
			}
			old := p.Updated
			p.Deleted, p.Updated = true, t
			c.touch(ordResidents, i, old)
			return Change{GovResidents, i, OpDelete, at}
		case x < 96:
			if len(c.Members) == 0 {
				continue
			}
			i := int32(rng.IntN(len(c.Members)))
			m := &c.Members[i]
			if m.Deleted {
				continue
			}
			m.Updated = t
			op := OpUpdate
			if rng.IntN(4) == 0 {
				m.Deleted = true
				op = OpDelete
			} else {
				m.Central = !m.Central
			}
			return Change{PartyMembers, i, op, at}
		default:
			if len(c.Members) == 0 || len(c.Stations) == 0 {
				continue
			}
			mi := int32(rng.IntN(len(c.Members)))
			h := float32(1+rng.IntN(7)) / 2
			c.Activities = append(c.Activities, Activity{ID: hexID(rng), Title: uint8(rng.IntN(len(activityTitles))), Member: mi,
				Station: int32(rng.IntN(len(c.Stations))), Date: t, Hours: h, Points: int16(h * 10), Rec: Rec{Updated: t}})
			return Change{PartyActivities, int32(len(c.Activities) - 1), OpCreate, at}
		}
	}
}

func (c *City) newGovEvent(rng *rand.Rand, t int64, at time.Time) Change {
	gr := c.Grids[rng.IntN(len(c.Grids))]
	lng, lat := c.Regions[gr].Rect.randomPoint(rng, 0.02)
	sub := rng.IntN(len(c.govSubs))
	cs := Case{Class: uint8(sub), Grid: gr, Person: -1, Group: -1, Lng: lng, Lat: lat, Reported: t, Dept: uint8(rng.IntN(len(govDepts))),
		Reporter: ReporterWorker, Rec: Rec{Updated: t}}
	for _, w := range c.Workers {
		if len(w.Grids) == 1 && w.Grids[0] == gr {
			cs.Person = w.Person
			break
		}
	}
	cs.Deadline = canon.AddWorkHours(at, govTypes[c.govSubs[sub].typ].deadlineH).Unix()
	cs.Steps = []Step{{uint32(t), 10, 1}}
	c.GovEvents = append(c.GovEvents, cs)
	i := int32(len(c.GovEvents) - 1)
	c.touch(ordEvents, i, -1)
	c.open[0] = append(c.open[0], i)
	return Change{GovEvents, i, OpCreate, at}
}

func (c *City) newCityCase(rng *rand.Rand, t int64, at time.Time) Change {
	gr := c.Grids[rng.IntN(len(c.Grids))]
	lng, lat := c.Regions[gr].Rect.randomPoint(rng, 0.02)
	sub := rng.IntN(len(c.citySubs))
	cs := Case{Class: uint8(sub), Grid: gr, Person: -1, Group: -1, Lng: lng, Lat: lat, Reported: t, Dept: uint8(rng.IntN(len(cityDepts))),
		Reporter: ReporterSupervisor, Rec: Rec{Updated: t}}
	cs.Steps = []Step{{uint32(t), csReport, 4}}
	c.CityCases = append(c.CityCases, cs)
	i := int32(len(c.CityCases) - 1)
	c.touch(ordCityUpdated, i, -1)
	c.open[1] = append(c.open[1], i)
	return Change{CityRequests, i, OpCreate, at}
}

// progress moves a random open case of a system (0 governance, 1 city)
// one step along its workflow.
func (c *City) progress(rng *rand.Rand, sys int, t int64, at time.Time) (Change, bool) {
	open := c.open[sys]
	if len(open) == 0 {
		return Change{}, false
	}
	k := rng.IntN(len(open))
	i := open[k]
	var cs *Case
	if sys == 0 {
		cs = &c.GovEvents[i]
	} else {
		cs = &c.CityCases[i]
	}
	last := cs.Steps[len(cs.Steps)-1]
	next := Step{At: uint32(t), Level: last.Level}
	if sys == 0 {
		switch last.State {
		case 10:
			next.State, next.Level = 20, 2
			if rng.IntN(10) < 4 {
				next.State, next.Level = 11, 1
			}
		case 11, 60:
			next.State = 70
			next.Level = max(last.Level, 2)
		case 20:
			next.State = 50
			if rng.IntN(2) == 0 {
				next.State, next.Level = 30, 3
			}
		case 30:
			next.State = 50
			if rng.IntN(2) == 0 {
				next.State, next.Level = 40, 5
			}
		case 35, 40:
			next.State = 50
		case 50, 55:
			next.State = 60
		default: // 70
			next.State = 80
		}
	} else {
		switch last.State {
		case csReport:
			next.State = csAccept
		case csAccept:
			next.State = csFile
			dl := cityClasses[c.citySubs[cs.Class].class].deadlineH
			cs.Deadline = canon.AddWorkHours(at, dl).Unix()
		case csFile, csReturn:
			next.State = csDispatch
		case csDispatch, csSuspend:
			next.State = csHandle
		case csHandle, csDefer, csRework:
			next.State = csFeedback
		case csFeedback:
			next.State = csVerify
		default: // csVerify
			next.State = csClose
		}
	}
	cs.Steps = append(cs.Steps[:len(cs.Steps):len(cs.Steps)], next)
	old := cs.Updated
	cs.Updated = t
	e := GovEvents
	if sys == 1 {
		e = CityRequests
	}
	c.touch(orderOf(e), i, old)
	if !c.caseOpen(sys == 0, cs) {
		open[k] = open[len(open)-1]
		c.open[sys] = open[:len(open)-1]
	}
	return Change{e, i, OpUpdate, at}, true
}

// Count is the current number of records of an entity.
type Count struct {
	Entity     Entity
	Records    int // distinct records, deleted ones included
	Deleted    int // tombstoned or soft-deleted
	Duplicates int // extra deliveries of records carrying a duplicate defect
	Quarantine int // records with a defect a correct hub must quarantine
	Open       int // cases not closed (events and requests only)
}

// Counts returns the current record counts of every entity: the ground
// truth a test compares a synced hub against.
func (c *City) Counts() []Count {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Count, numEntities)
	add := func(e Entity, r *Rec) {
		n := &out[e]
		n.Records++
		if r.Deleted {
			n.Deleted++
		}
		if r.Def == KDuplicate {
			n.Duplicates++
		}
		if r.Def != KNone && r.Def.Action() == "QUARANTINE" {
			n.Quarantine++
		}
	}
	for i := range out {
		out[i].Entity = Entity(i)
	}
	for i := range c.gridMeta {
		add(GovGrids, &c.gridMeta[i])
	}
	for i := range c.Workers {
		add(GovWorkers, &c.Workers[i].Rec)
	}
	for i := range c.Households {
		add(GovHouses, &c.Households[i].Rec)
	}
	for i := range c.People {
		add(GovResidents, &c.People[i].Rec)
	}
	for i := range c.GovEvents {
		add(GovEvents, &c.GovEvents[i].Rec)
	}
	for i := range c.CityCases {
		add(CityRequests, &c.CityCases[i].Rec)
	}
	for i := range c.Orgs {
		add(PartyOrgs, &c.Orgs[i].Rec)
	}
	for i := range c.Members {
		add(PartyMembers, &c.Members[i].Rec)
	}
	for i := range c.DualReports {
		add(PartyDualReports, &c.DualReports[i].Rec)
	}
	for i := range c.Stations {
		add(PartyStations, &c.Stations[i].Rec)
	}
	for i := range c.Activities {
		add(PartyActivities, &c.Activities[i].Rec)
	}
	out[GovEvents].Open = len(c.open[0])
	out[CityRequests].Open = len(c.open[1])
	return out
}

// Changes returns the number of live changes applied so far.
func (c *City) Changes() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.live.n
}
