package store

import (
	"slices"
	"unicode"
)

// Text search over cases (CaseFilter.Text) is a substring match, ILIKE
// over a case's title and description, served by an index of the text's
// character bigrams: every two adjacent characters of the lower-cased
// text "title description", each packed into one int4 (the low 16 bits
// of each code point, first character high). A case's bigrams are
// computed here when it is written (the search_grams column, a GIN
// index); a search asks for the cases holding every bigram of its text
// (search_grams @> …) and ILIKE checks the candidates, which also settles
// the rare packing that two bigrams share (a code point above U+FFFF).
//
// Bigrams, not pg_trgm's trigrams: a Chinese search term is most often
// two characters (井盖, 占道, 噪音), which holds no trigram, so a trigram
// index left it to a scan of every case. And the trigrams were computed
// by the database at each write (about 40 µs a case, half of a new
// case's write) where the bigrams arrive computed.

// searchText is the text a case is searched by.
func searchText(title, description string) string {
	return title + " " + description
}

// searchGrams returns the distinct bigrams of text, sorted: those of its
// lower-cased characters, adjacent pairs of every kind (spaces and
// punctuation included), so that the bigrams of a search term are among
// those of any text that holds it. The migration that added the column
// computes the same in SQL (hub_search_grams) for the cases it held.
func searchGrams(text string) []int32 {
	grams := make([]int32, 0, len(text)/3)
	prev, first := rune(0), true
	for _, r := range text {
		r = unicode.ToLower(r)
		if !first {
			grams = append(grams, int32(uint32(prev&0xFFFF)<<16|uint32(r&0xFFFF)))
		}
		prev, first = r, false
	}
	slices.Sort(grams)
	return slices.Compact(grams)
}
