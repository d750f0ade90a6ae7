// Package runes cuts strings to a length in characters, as AWS counts the
// lengths of descriptions and names, without splitting a UTF-8 sequence.
package runes

import "unicode/utf8"

// Cut is s cut to at most n characters (runes, not bytes).
func Cut(s string, n int) string {
	if n < 0 {
		n = 0
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
