package resolve

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// Value is one field of a golden record with its provenance.
type Value struct {
	Value  string
	Record string // key of the record it came from
	Source string
}

// Golden is the golden record of a cluster: per field, the value of the
// most trusted source, then of the most recent record, then of the record
// with the smallest key.
type Golden struct {
	Name, Birth, Gender, Phone, Place, IDHash Value
}

// Golden returns the golden record of cluster c.
func (r *Result) Golden(c int, trust map[string]int) Golden {
	members := slices.Clone(r.Clusters[c])
	slices.SortFunc(members, func(a, b int) int {
		ra, rb := &r.Records[a], &r.Records[b]
		if x := cmp.Compare(trust[rb.Source], trust[ra.Source]); x != 0 {
			return x
		}
		if x := rb.Updated.Compare(ra.Updated); x != 0 {
			return x
		}
		return strings.Compare(ra.Key, rb.Key)
	})
	pick := func(get func(*Record) string) Value {
		for _, i := range members {
			if v := get(&r.Records[i]); v != "" {
				return Value{Value: v, Record: r.Records[i].Key, Source: r.Records[i].Source}
			}
		}
		return Value{}
	}
	return Golden{
		Name:   pick(func(x *Record) string { return FoldName(x.Name) }),
		Birth:  pick(func(x *Record) string { return x.Birth }),
		Gender: pick(func(x *Record) string { return x.Gender }),
		Phone:  pick(func(x *Record) string { return x.PhoneHash }),
		Place:  pick(func(x *Record) string { return x.Place }),
		IDHash: pick(func(x *Record) string { return x.IDHash }),
	}
}

// Merge records that a person ID was merged into another; the merged ID
// still names the survivor.
type Merge struct{ From, Into string }

// Split records that a cluster lost the ID its records had (a rejected
// link split it) and got a new one.
type Split struct{ ID, From string }

// Assignment is the global person ID of each cluster of a resolution.
type Assignment struct {
	ID     []string // per cluster
	Merges []Merge
	Splits []Split
}

// Assign gives every cluster of r a person ID, keeping the IDs of prev
// (record key → person ID of the previous resolution): a cluster keeps the
// ID most of its records had (ties: the smaller ID); IDs of its other
// records are merged into it; a cluster none of whose previous IDs is left
// gets a new ID derived from its smallest record key, with a split from
// the ID most of its records had.
func (r *Result) Assign(prev map[string]string) Assignment {
	type claim struct {
		cluster int
		id      string
		n       int
	}
	var claims []claim
	for c, members := range r.Clusters {
		count := map[string]int{}
		for _, i := range members {
			if id, ok := prev[r.Records[i].Key]; ok {
				count[id]++
			}
		}
		for id, n := range count {
			claims = append(claims, claim{c, id, n})
		}
	}
	slices.SortFunc(claims, func(a, b claim) int {
		if x := cmp.Compare(b.n, a.n); x != 0 {
			return x
		}
		if x := strings.Compare(a.id, b.id); x != 0 {
			return x
		}
		return cmp.Compare(a.cluster, b.cluster)
	})
	a := Assignment{ID: make([]string, len(r.Clusters))}
	owner := map[string]int{}
	for _, cl := range claims {
		if a.ID[cl.cluster] != "" {
			continue
		}
		if _, taken := owner[cl.id]; taken {
			continue
		}
		a.ID[cl.cluster] = cl.id
		owner[cl.id] = cl.cluster
	}
	for c, members := range r.Clusters {
		if a.ID[c] != "" {
			continue
		}
		h := sha256.Sum256([]byte(r.Records[members[0]].Key))
		a.ID[c] = "p" + hex.EncodeToString(h[:10])
		for _, cl := range claims { // claims are by count: the first is the main origin
			if cl.cluster == c {
				a.Splits = append(a.Splits, Split{ID: a.ID[c], From: cl.id})
				break
			}
		}
	}
	for _, cl := range claims {
		if _, kept := owner[cl.id]; !kept {
			owner[cl.id] = -1
			// The largest claimant takes the lost ID as an alias.
			a.Merges = append(a.Merges, Merge{From: cl.id, Into: a.ID[cl.cluster]})
		}
	}
	slices.SortFunc(a.Merges, func(x, y Merge) int { return strings.Compare(x.From, y.From) })
	return a
}
