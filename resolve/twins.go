package resolve

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/ywtg/hub/store"
)

// twins are source records that are one record to resolution: the same
// valid ID hash, source and compared fields. A grid worker's reports each
// name the worker alike (the medium city has 35,000 reporter records with
// an ID and 10,000 distinct ones); held apart, a worker's reports made one
// cluster of hundreds of records that every new report resolved again.
// Persons holds twins as one record under their smallest key, with their
// latest timestamp and the others as Record.Copies.
type twins struct {
	sig     string
	rec     Record // the fields the members share
	members []member
	// first and latest are the smallest key and the latest timestamp of
	// the members, unless stale (a member that held one left).
	first  string
	latest time.Time
	stale  bool
	// folded is the members' name folded (FoldName), once asked for.
	folded *string
}

// member is one source record of a twins and where it stands: its
// person_link row, the person made for it (or its ID's), its person and
// how it was matched. Only the sync engine and resolution write a
// record's person: the sync engine when the record changes, which queues
// it (read again at the next run), resolution in the plans it applies.
type member struct {
	key     string
	updated time.Time
	id      int64
	own     int64
	person  int64
	matched string
}

// memberOf is a record's member as read from the store.
func memberOf(l *store.PersonLink, rec *Record) member {
	return member{key: l.Key, updated: rec.Updated, id: l.ID, own: l.OwnID, person: l.PersonID, matched: l.MatchedBy}
}

// record is the one record the twins are to resolution.
func (t *twins) record() Record {
	if t.stale {
		t.first, t.latest, t.stale = "", time.Time{}, false
		for i := range t.members {
			t.note(&t.members[i])
		}
	}
	rec := t.rec
	rec.Key, rec.Updated, rec.Copies = t.first, t.latest, len(t.members)-1
	return rec
}

// note takes a member into first and latest.
func (t *twins) note(m *member) {
	if t.first == "" || m.key < t.first {
		t.first = m.key
	}
	if m.updated.After(t.latest) {
		t.latest = m.updated
	}
}

// folds are the person records held, grouped into twins. A record a
// decision names is never folded: the decision is about it alone.
type folds struct {
	bySig map[string]*twins
	of    map[string]slot // record key → where it is held
	named map[string]bool
}

// slot is where a record is held: its twins and its place among their
// members (a worker's twins hold hundreds).
type slot struct {
	t *twins
	i int
}

func newFolds(n int, decisions []Decision) *folds {
	return &folds{bySig: make(map[string]*twins, n), of: make(map[string]slot, n), named: namedKeys(decisions)}
}

// namedKeys are the record keys decisions name.
func namedKeys(decisions []Decision) map[string]bool {
	out := make(map[string]bool, 2*len(decisions))
	for _, d := range decisions {
		out[d.A], out[d.B] = true, true
	}
	return out
}

// sig is what a record shares with its twins; a record that cannot have
// twins (no valid ID hash, or named by a decision) has one of its own.
func (f *folds) sig(rec *Record) string {
	if rec.IDHash == "" || f.named[rec.Key] {
		return "\x01" + rec.Key
	}
	return strings.Join([]string{rec.IDHash, rec.Source, rec.Name, rec.Birth, rec.Gender, rec.PhoneHash, rec.Place}, "\x00")
}

// member returns a held record's member (nil: not held).
func (f *folds) member(key string) *member {
	if s, ok := f.of[key]; ok {
		return &s.t.members[s.i]
	}
	return nil
}

// twinsOf returns the twins a record is held with (nil: not held).
func (f *folds) twinsOf(key string) *twins {
	return f.of[key].t
}

// add puts a record (not held) with its twins and returns them.
func (f *folds) add(rec *Record, m member) *twins {
	s := f.sig(rec)
	t := f.bySig[s]
	if t == nil {
		shared := *rec
		shared.Key, shared.Updated, shared.Copies = "", time.Time{}, 0
		t = &twins{sig: s, rec: shared}
		f.bySig[s] = t
	}
	t.members = append(t.members, m)
	if !t.stale {
		t.note(&t.members[len(t.members)-1])
	}
	f.of[m.key] = slot{t, len(t.members) - 1}
	return t
}

// drop takes a record out of its twins, if held.
func (f *folds) drop(key string) {
	s, ok := f.of[key]
	if !ok {
		return
	}
	delete(f.of, key)
	t, i := s.t, s.i
	if m := &t.members[i]; m.key == t.first || !m.updated.Before(t.latest) {
		t.stale = true
	}
	last := len(t.members) - 1
	if i != last {
		t.members[i] = t.members[last]
		f.of[t.members[i].key] = slot{t, i}
	}
	t.members = t.members[:last]
	if len(t.members) == 0 {
		delete(f.bySig, t.sig)
	}
}

// foldedName returns the folded name (FoldName) of a record the engine
// holds: the twins' name, folded once for all the runs that answer it.
func (f *folds) foldedName(rec *Record) string {
	t := f.of[rec.Key].t
	if t == nil {
		return FoldName(rec.Name)
	}
	if t.folded == nil {
		n := FoldName(t.rec.Name)
		t.folded = &n
	}
	return *t.folded
}

// members returns the members of the twins a record the engine holds
// stands for: itself and its copies.
func (f *folds) members(rec *Record) []member {
	return f.of[rec.Key].t.members
}

// known is what the folds hold of the own persons of those keys held,
// with their ID hash (nil: none) and the person_link row each was read
// from.
func (f *folds) known(keys []string) map[string]store.KnownOwn {
	out := make(map[string]store.KnownOwn, len(keys))
	for _, k := range keys {
		s, ok := f.of[k]
		if !ok {
			continue
		}
		var h []byte
		if id := s.t.rec.IDHash; id != "" {
			var err error
			if h, err = hex.DecodeString(id); err != nil {
				continue
			}
		}
		m := &s.t.members[s.i]
		out[k] = store.KnownOwn{IDHash: h, Own: m.own, Link: m.id}
	}
	return out
}

// records are the records resolution holds: one per twins.
func (f *folds) records() []Record {
	out := make([]Record, 0, len(f.bySig))
	for _, t := range f.bySig {
		out = append(out, t.record())
	}
	return out
}

// sameRecord tells whether two records are the same to resolution.
func sameRecord(a, b *Record) bool {
	return sameFields(a, b) && a.Updated.Equal(b.Updated) && a.Copies == b.Copies
}
