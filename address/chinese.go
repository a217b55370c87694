package address

import (
	"slices"
	"sync"

	"github.com/longbridgeapp/opencc"
	"github.com/mozillazg/go-pinyin"
)

// Traditional characters are folded with OpenCC's maintained conversion
// tables (the t2s configuration: phrases first, then characters), through
// its Go port, which embeds them: a hand-kept list would miss most of the
// characters place names use.
var traditional = sync.OnceValues(func() (*opencc.OpenCC, error) { return opencc.New("t2s") })

// ToSimplified converts traditional characters to simplified ones (襄陽市樊城區
// → 襄阳市樊城区) and reports whether anything changed. Text without Han
// characters is returned as is.
func ToSimplified(s string) (string, bool) {
	han := false
	for _, r := range s {
		if r >= 0x3400 {
			han = true
			break
		}
	}
	if !han {
		return s, false
	}
	cc, err := traditional()
	if err != nil {
		return s, false // the embedded tables always load; a broken build converts nothing
	}
	out, err := cc.Convert(s)
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
