package resolve

import (
	"cmp"
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
	return r.golden(c, trust, func(x *Record) string { return FoldName(x.Name) })
}

// golden is Golden with the folded name of each record given by folded.
func (r *Result) golden(c int, trust map[string]int, folded func(*Record) string) Golden {
	members := r.Clusters[c]
	if len(members) > 1 {
		members = slices.Clone(members)
	}
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
		Name:   pick(folded),
		Birth:  pick(func(x *Record) string { return x.Birth }),
		Gender: pick(func(x *Record) string { return x.Gender }),
		Phone:  pick(func(x *Record) string { return x.PhoneHash }),
		Place:  pick(func(x *Record) string { return x.Place }),
		IDHash: pick(func(x *Record) string { return x.IDHash }),
	}
}
