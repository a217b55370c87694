package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxNameRunes bounds a personal name; the longest transliterated minority
// names stay well under it.
const maxNameRunes = 64

// PersonName cleans a personal name: HTML stripped, full-width letters
// folded, ends trimmed; spaces inside a Chinese name removed (sources
// write 张 三), other runs of spaces collapsed to one (John  Smith); the
// middle dot of transliterated names (买买提·艾力) unified to U+00B7 from
// its look-alikes. Empty is MISSING_FIELD, invalid UTF-8 BAD_ENCODING, a
// name with digits, control characters or symbols BAD_NAME, longer than
// 64 characters TEXT_TOO_LONG.
func PersonName(field, raw string) (string, []Repair, error) {
	if !validText(raw) {
		return "", nil, defect(BadEncoding, field, "name is not valid UTF-8 (GBK bytes?)")
	}
	var repairs []Repair
	s := raw
	if t, changed := stripHTML(s); changed {
		s = t
		repairs = append(repairs, HTMLStripped)
	}
	if t, fw := foldWidth(s); fw {
		s = t
		repairs = append(repairs, FullWidthDigits)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil, defect(MissingField, field, "no name")
	}
	var b strings.Builder
	b.Grow(len(s))
	var prev rune // last rune written
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff' || r == '\u00ad':
			continue // invisible: dropped
		case isNameDot(r) || (r == '.' && isHan(prev)):
			r = '·'
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || r == '\'' || r == '-' || r == '.':
		case unicode.IsNumber(r):
			return "", nil, defect(BadName, field, "name has digits")
		default:
			return "", nil, defect(BadName, field, "name has a character %q that names do not have", r)
		}
		// One space stays between latin words; none next to a Han
		// character or a middle dot.
		if space && prev != 0 && !isHan(prev) && !isHan(r) && prev != '·' && r != '·' {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		prev = r
	}
	out := b.String()
	if out == "" {
		return "", nil, defect(MissingField, field, "no name")
	}
	if out != s {
		repairs = append(repairs, NameCleaned)
	}
	if n := utf8.RuneCountInString(out); n > maxNameRunes {
		return "", nil, defect(TextTooLong, field, "name of %d characters, at most %d", n, maxNameRunes)
	}
	return out, repairs, nil
}

// isNameDot reports the middle dot of transliterated names and the
// characters typed in its place.
func isNameDot(r rune) bool {
	switch r {
	case '·', '•', '・', '‧', '∙', '⋅', '･':
		return true
	}
	return false
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }
