package normalize

import (
	"html"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/ywtg/hub/address"
)

// Text cleans a text field with a hard length limit: HTML tags are
// stripped and entities unescaped, whitespace normalised (see CleanText). Text that is not UTF-8 (GBK bytes in a UTF-8 field) is
// a BAD_ENCODING defect; text longer than max characters is TEXT_TOO_LONG
// — docs/sources.md lists oversized text as a record to quarantine, since
// a source that sends it is broken. max ≤ 0 means no limit.
func Text(field, s string, max int) (string, error) {
	out, _, err := cleanText(field, s, max, false)
	return out, err
}

// CleanText cleans free text the way Text does but never refuses it for
// its length: text longer than max characters is cut at a rune boundary
// and the TEXT_TRUNCATED repair recorded (the raw payload keeps the rest).
// The cleaning, each step reported as a repair:
//   - tags are removed, <br> and the opening <p>, <div>, <li> and the
//     like become line breaks, <script> and <style> lose their content,
//     comments vanish, entities are unescaped (HTML_STRIPPED); a '<' that
//     opens no tag ("温度<5度") is kept;
//   - CRLF becomes LF, tabs and exotic spaces a space, runs of spaces one
//     space, blank-line runs one blank line, lines trimmed; control and
//     zero-width characters are dropped (WHITESPACE_NORMALIZED).
//
// Invalid UTF-8 or U+FFFD (a lossy decode upstream) is BAD_ENCODING; decode
// GBK first with DecodeText or DecodeGBK.
func CleanText(field, s string, max int) (string, []Repair, error) {
	return cleanText(field, s, max, true)
}

func cleanText(field, s string, max int, truncate bool) (string, []Repair, error) {
	if !validText(s) {
		return "", nil, defect(BadEncoding, field, "text is not valid UTF-8 (GBK bytes?)")
	}
	var repairs []Repair
	if t, changed := stripHTML(s); changed {
		s = t
		repairs = append(repairs, HTMLStripped)
	}
	if t, changed := normalizeSpace(s); changed {
		s = t
		repairs = append(repairs, WhitespaceNormalized)
	} else {
		s = t
	}
	if max > 0 && len(s) > max { // fewer bytes than the limit: fewer runes too
		if n := utf8.RuneCountInString(s); n > max {
			if !truncate {
				return "", nil, defect(TextTooLong, field, "%d characters, at most %d", n, max)
			}
			s = strings.TrimRightFunc(cutRunes(s, max), unicode.IsSpace)
			repairs = append(repairs, TextTruncated)
		}
	}
	return s, repairs, nil
}

// validText reports UTF-8 without U+FFFD (the mark of a lossy decode
// upstream).
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.Contains(s, "\ufffd")
}

// cutRunes returns the first n runes of s.
func cutRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// DecodeText reads bytes of unknown encoding: valid UTF-8 as is, anything
// else as GBK (GB18030, its superset) with the GBK_DECODED repair. Bytes
// that are neither are a BAD_ENCODING defect. The result is not cleaned;
// pass it to Text or CleanText.
func DecodeText(field string, b []byte) (string, []Repair, error) {
	if utf8.Valid(b) {
		return string(b), nil, nil
	}
	s, err := DecodeGBK(field, b)
	if err != nil {
		return "", nil, err
	}
	return s, []Repair{GBKDecoded}, nil
}

// DecodeGBK decodes GBK bytes (read as GB18030, GBK's superset, so 4-byte
// sequences decode too). Bytes that are not GBK are a BAD_ENCODING defect,
// never a string with replacement characters.
func DecodeGBK(field string, b []byte) (string, error) {
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil || !validText(string(out)) {
		return "", defect(BadEncoding, field, "bytes are neither UTF-8 nor GBK")
	}
	return string(out), nil
}

// NewGBKReader decodes a GBK stream, such as the city-management CSV
// export, to UTF-8. Invalid bytes become U+FFFD, which Text and CleanText
// then refuse field by field.
func NewGBKReader(r io.Reader) io.Reader {
	return simplifiedchinese.GB18030.NewDecoder().Reader(r)
}

// blockTags become a line break when stripped.
var blockTags = map[string]bool{
	"br": true, "p": true, "div": true, "li": true, "tr": true, "ul": true, "ol": true, "table": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "hr": true, "blockquote": true,
	"pre": true, "section": true, "article": true,
}

// stripHTML removes tags and unescapes entities; it reports whether it
// changed anything.
func stripHTML(s string) (string, bool) {
	hasTag := strings.IndexByte(s, '<') >= 0
	hasEntity := strings.IndexByte(s, '&') >= 0
	if !hasTag && !hasEntity {
		return s, false
	}
	changed := false
	if hasTag {
		var b strings.Builder
		b.Grow(len(s))
		lastClose := strings.LastIndexByte(s, '>') // no tag opens after it: linear time on "<a<a<a…"
		i := 0
		for i < len(s) {
			c := s[i]
			if c != '<' || i+1 >= len(s) {
				b.WriteByte(c)
				i++
				continue
			}
			next := s[i+1]
			switch {
			case strings.HasPrefix(s[i:], "<!--"):
				end := strings.Index(s[i+4:], "-->")
				if end < 0 {
					i = len(s)
				} else {
					i += 4 + end + 3
				}
				changed = true
				continue
			case isASCIILetter(next) || next == '/' || next == '!' || next == '?':
			default:
				b.WriteByte(c) // "a < b", "温度<5度"
				i++
				continue
			}
			if i > lastClose {
				b.WriteByte(c) // unclosed: text
				i++
				continue
			}
			end := strings.IndexByte(s[i:], '>')
			name, closing := tagName(s[i+1 : i+end])
			i += end + 1
			changed = true
			if !closing && (name == "script" || name == "style") {
				// Drop the content up to the closing tag.
				if j := indexFold(s[i:], "</"+name); j >= 0 {
					i += j
					if k := strings.IndexByte(s[i:], '>'); k >= 0 {
						i += k + 1
					} else {
						i = len(s)
					}
				} else {
					i = len(s)
				}
				continue
			}
			if blockTags[name] && (!closing || name == "br") {
				b.WriteByte('\n')
			}
		}
		if changed {
			s = b.String()
		}
	}
	if hasEntity {
		if u := html.UnescapeString(s); u != s {
			// &#0; and other invalid references decode to U+FFFD; the
			// input had none (it was refused), so these are dropped.
			s, changed = strings.ReplaceAll(u, "\ufffd", ""), true
		}
	}
	return s, changed
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// tagName reads the lower-case name of a tag's inside ("/p", "br/", "b
// style=…").
func tagName(inside string) (string, bool) {
	closing := strings.HasPrefix(inside, "/")
	inside = strings.TrimPrefix(inside, "/")
	n := 0
	for n < len(inside) && (isASCIILetter(inside[n]) || (n > 0 && inside[n] >= '0' && inside[n] <= '9')) {
		n++
	}
	return strings.ToLower(inside[:n]), closing
}

// indexFold is strings.Index for an ASCII needle, ignoring case.
func indexFold(s, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}

// normalizeSpace normalises line breaks and spaces (see CleanText). It
// reports whether it changed anything beyond trimming the ends.
func normalizeSpace(s string) (string, bool) {
	trimmed := strings.TrimSpace(s)
	if plainText(trimmed) {
		return trimmed, false
	}
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace, newlines, afterCR := false, 0, false
	for _, r := range s {
		cr := false
		switch {
		case r >= 0x80 && !needsWork(r):
			// an ordinary character (Han text): no table lookups
			writeGap(&b, newlines, pendingSpace)
			pendingSpace, newlines = false, 0
			b.WriteRune(r)
		case r == '\n' && afterCR:
			// the LF of a CRLF: already counted
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			cr = r == '\r'
			pendingSpace = false
			newlines++
		case unicode.IsSpace(r):
			pendingSpace = true
		case invisible(r):
		default:
			writeGap(&b, newlines, pendingSpace)
			pendingSpace, newlines = false, 0
			b.WriteRune(r)
		}
		afterCR = cr
	}
	out := b.String()
	return out, out != trimmed
}

// writeGap writes what separates the next character from the text so far:
// a blank line, a line break, a space or nothing (nothing at the start).
func writeGap(b *strings.Builder, newlines int, space bool) {
	if b.Len() == 0 {
		return
	}
	switch {
	case newlines >= 2:
		b.WriteString("\n\n")
	case newlines == 1:
		b.WriteByte('\n')
	case space:
		b.WriteByte(' ')
	}
}

// invisible reports control, zero-width and soft-hyphen characters, which
// cleaning drops.
func invisible(r rune) bool {
	return r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff' || r == '\u00ad' || unicode.IsControl(r)
}

// needsWork reports non-ASCII runes that whitespace normalisation changes:
// spaces, controls and invisible characters. It avoids the Unicode tables
// for the common case (Han text), which none of these ranges touch.
func needsWork(r rune) bool {
	switch {
	case r < 0x80:
		return false
	case r <= 0xa0 || r == 0xad || r == 0x1680:
		return true
	case r < 0x2000:
		return false
	case r <= 0x200f || (r >= 0x2028 && r <= 0x202f) || (r >= 0x205f && r <= 0x2064) || r == 0x3000 || r == 0xfeff:
		return true
	}
	return false
}

// plainText reports whether s needs no whitespace work: printable, single
// spaces only, no line-break runs, no control or zero-width characters.
func plainText(s string) bool {
	prevSpace, prevNL := false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			// Only these lead bytes start a rune needsWork reports; Han
			// text (0xE4–0xE9) is skipped without decoding.
			size := 1
			switch {
			case c == 0xc2 || c == 0xe1 || c == 0xe2 || c == 0xe3 || c == 0xef:
				var r rune
				r, size = utf8.DecodeRuneInString(s[i:])
				if needsWork(r) {
					return false
				}
			case c >= 0xf0:
				size = 4
			case c >= 0xe0:
				size = 3
			case c >= 0xc0:
				size = 2
			}
			i += size - 1
			prevSpace, prevNL = false, 0
			continue
		}
		switch {
		case c == ' ':
			if prevSpace || prevNL > 0 {
				return false
			}
			prevSpace = true
		case c == '\n':
			if prevSpace || prevNL >= 2 {
				return false
			}
			prevNL++
		case c < 0x20 || c == 0x7f:
			return false
		default:
			prevSpace, prevNL = false, 0
		}
	}
	return true
}

// foldWidth folds full-width forms to ASCII and reports whether it did
// (the same folding as addresses get).
func foldWidth(s string) (string, bool) { return address.FoldWidth(s) }

// compact folds width and removes every space (including ideographic and
// zero-width ones), for identifiers that have no inner spaces.
func compact(s string) (string, bool) {
	s, fw := foldWidth(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x80 {
			return strings.Map(func(r rune) rune {
				if unicode.IsSpace(r) || invisible(r) {
					return -1
				}
				return r
			}, s), fw
		}
	}
	return s, fw
}
