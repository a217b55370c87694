// Package address is the hub's unified place-name and address service (统一地名地址):
// it splits free-text Chinese addresses into their components (Parse) and
// places them on the region tree and the known compounds and buildings
// (Gazetteer). The connectors use it to normalise source addresses and to
// place records that carry neither a usable grid code nor a position; the
// API serves it as Query.standardizeAddress. It imports canon only.
package address

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// Repair names a fix Parse made to its input.
type Repair string

// The repairs Parse reports.
const (
	// FullWidthDigits: full-width forms (１２栋, ＡＢ) folded to ASCII.
	FullWidthDigits Repair = "FULL_WIDTH_DIGITS"
	// TraditionalChars: traditional characters made simplified (樊城區 → 樊城区).
	TraditionalChars Repair = "TRADITIONAL_CHARACTERS"
	// ChineseNumerals: numerals of the house part made digits (三栋 → 3栋).
	ChineseNumerals Repair = "CHINESE_NUMERALS"
)

// FoldWidth folds full-width and other wide forms to their narrow
// counterparts (Ｂ → B, the ideographic space → a space) and reports
// whether anything changed. Han characters are untouched. The connectors'
// normalisers fold identifiers and names the same way.
func FoldWidth(s string) (string, bool) {
	// The transform allocates its buffers whatever it finds, and Han text
	// (whose UTF-8 shares its lead bytes with the wide forms) rarely holds
	// a character it changes: look first, a table lookup per character.
	for i := 0; ; {
		if i == len(s) {
			return s, false
		}
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		p, n := width.LookupString(s[i:])
		if p.Folded() != 0 {
			break
		}
		i += max(n, 1)
	}
	out := width.Fold.String(s)
	return out, out != s
}

// invisible reports control, zero-width and soft-hyphen characters.
func invisible(r rune) bool {
	return r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff' || r == '\u00ad' || unicode.IsControl(r)
}

// allDigits reports a non-empty string of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}
