// Package jsonscan finds where JSON values lie in a document without
// decoding them, so that a connector can decode a response in one pass and
// still keep each record's own bytes (its payload hash, its quarantine
// entry). It notices some malformed JSON, not all: callers decode what it
// found with encoding/json or Decode, which check the rest.
package jsonscan

import "unicode/utf8"

// SkipSpace returns the offset of the first byte at or after i that is not
// JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// SkipValue returns the offset after the JSON value starting at b[i].
func SkipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := SkipString(b, i)
				if !ok {
					return 0, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
			i++
		}
		return 0, false
	}
	start := i // a number, true, false or null
	for i < len(b) && !isDelim(b[i]) {
		i++
	}
	return i, i > start
}

// SkipString returns the offset after the JSON string starting at b[i].
func SkipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

func isDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '{' || c == '['
}

// Members walks the object starting at b[i], calling member with each name
// (its bytes between the quotes) and the offset of its value; member
// returns the offset after the value. Members returns the offset after the
// object. It refuses names that are escaped or not ASCII, which a
// case-insensitive decoder might match in ways a byte comparison does not.
func Members(b []byte, i int, member func(name []byte, i int) (int, bool)) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		end, ok := SkipString(b, i)
		if !ok {
			return 0, false
		}
		name := b[i+1 : end-1]
		for _, c := range name {
			if c == '\\' || c >= utf8.RuneSelf {
				return 0, false
			}
		}
		i = SkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		if i, ok = member(name, SkipSpace(b, i+1)); !ok {
			return 0, false
		}
		i = SkipSpace(b, i)
		switch {
		case i < len(b) && b[i] == ',':
			i = SkipSpace(b, i+1)
		case i < len(b) && b[i] == '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// Elements finds the elements of the array starting at b[i], each as its
// bytes in b (capacity capped, so appending to one never overwrites the
// next), and returns the offset after the array. An empty array gives an
// empty, non-nil slice.
func Elements(b []byte, i int) ([][]byte, int, bool) {
	if i >= len(b) || b[i] != '[' {
		return nil, 0, false
	}
	out := [][]byte{}
	if i = SkipSpace(b, i+1); i < len(b) && b[i] == ']' {
		return out, i + 1, true
	}
	for {
		end, ok := SkipValue(b, i)
		if !ok {
			return nil, 0, false
		}
		out = append(out, b[i:end:end])
		i = SkipSpace(b, end)
		switch {
		case i < len(b) && b[i] == ',':
			i = SkipSpace(b, i+1)
		case i < len(b) && b[i] == ']':
			return out, i + 1, true
		default:
			return nil, 0, false
		}
	}
}
