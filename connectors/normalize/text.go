package normalize

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

var tags = regexp.MustCompile(`<[^>]*>`)

// Text cleans free text: HTML tags are stripped and entities unescaped,
// space trimmed. Text that is not UTF-8 (GBK bytes in a UTF-8 field), or
// longer than max characters, is a defect: cutting it would lose data.
func Text(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return "", defect(BadEncoding, field, "text is not valid UTF-8 (GBK bytes?)")
	}
	if strings.ContainsRune(s, '<') {
		s = tags.ReplaceAllString(s, "")
	}
	s = strings.TrimSpace(html.UnescapeString(s))
	if n := utf8.RuneCountInString(s); n > max {
		return "", defect(TextTooLong, field, "%d characters, at most %d", n, max)
	}
	return s, nil
}
