package address

import (
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/longbridgeapp/opencc"
	"github.com/mozillazg/go-pinyin"
)

// Traditional characters are folded with OpenCC's maintained conversion
// tables (the t2s configuration: phrases first, then characters), through
// its Go port, which embeds them: a hand-kept list would miss most of the
// characters place names use.
var traditional = sync.OnceValues(newFolder)

// folder is the t2s conversion with a set of characters that can make it
// change a text. It converts key by key (the longest key of its tables
// starting at each character, or the character itself), so text none of
// whose keys converts to something else comes out as it went in: the
// characters the conversion changes, plus one character of every changing
// phrase without such a character, are enough to tell. Most text the hub
// sees holds none (addresses written in simplified characters), and the
// check costs a bit lookup per character where the conversion costs a
// dictionary lookup and a string per character.
type folder struct {
	cc      *opencc.OpenCC
	changes []uint64 // bit r: rune r can make the conversion change a text
}

func newFolder() (*folder, error) {
	cc, err := opencc.New("t2s")
	if err != nil {
		return nil, fmt.Errorf("address: t2s tables: %w", err)
	}
	f := &folder{cc: cc, changes: make([]uint64, (utf8.MaxRune+1)/64)}
	var phrases []string
	for _, g := range cc.DictChains {
		for _, d := range g.Dicts {
			for _, id := range d.Trie.PrefixPredict(nil, 0) {
				key, err := d.Trie.Key(id)
				if err != nil {
					return nil, fmt.Errorf("address: t2s key %d: %w", id, err)
				}
				v, err := d.Trie.Value(id)
				if err != nil || v < 0 || v >= len(d.Values) || len(d.Values[v]) == 0 {
					return nil, fmt.Errorf("address: t2s value of %q: %v", key, err)
				}
				switch k := string(key); {
				case d.Values[v][0] == k:
				case utf8.RuneCountInString(k) == 1:
					r, _ := utf8.DecodeRuneInString(k)
					f.changes[r/64] |= 1 << (r % 64)
				default:
					phrases = append(phrases, k)
				}
			}
		}
	}
	// A changing phrase the characters above do not cover needs one of its
	// characters marked (a text holds the phrase only if it holds them
	// all): the one most such phrases share (藉, 覆, 瞭), then the later
	// one in code order, which in the tables is the rarer (衹 of 衹得).
	for {
		phrases = slices.DeleteFunc(phrases, f.folds)
		if len(phrases) == 0 {
			return f, nil
		}
		shared := map[rune]int{}
		for _, k := range phrases {
			for _, r := range k {
				shared[r]++
			}
		}
		best := rune(-1)
		for r, n := range shared {
			if best < 0 || n > shared[best] || n == shared[best] && r > best {
				best = r
			}
		}
		f.changes[best/64] |= 1 << (best % 64)
	}
}

// folds reports whether s holds a character that can make the conversion
// change it.
func (f *folder) folds(s string) bool {
	for _, r := range s {
		if f.changes[r/64]&(1<<(r%64)) != 0 {
			return true
		}
	}
	return false
}

// ToSimplified converts traditional characters to simplified ones (襄陽市樊城區
// → 襄阳市樊城区) and reports whether anything changed. Text without a
// character the tables convert is returned as is.
func ToSimplified(s string) (string, bool) {
	f, err := traditional()
	if err != nil || !f.folds(s) {
		return s, false // the embedded tables always load; a broken build converts nothing
	}
	out, err := f.cc.Convert(s)
	if err != nil || out == s {
		return s, false
	}
	return out, true
}

// readings are the toneless pinyin readings of a Han character (all of
// them for a character with several), from the Unihan-derived table of
// go-pinyin.
func readings(r rune) []string {
	a := pinyin.NewArgs()
	a.Heteronym = true
	return pinyin.SinglePinyin(r, a)
}

// homophones reports whether two Han characters share a reading: the
// typing slip of a pinyin input method (雅 for 亚, 庭 for 亭).
func homophones(a, b rune) bool {
	ra := readings(a)
	for _, x := range readings(b) {
		if slices.Contains(ra, x) {
			return true
		}
	}
	return false
}
