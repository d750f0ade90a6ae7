package runes

import (
	"testing"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"golden", 10, "golden"},
		{"golden", 6, "golden"},
		{"golden", 3, "gol"},
		{"ééé", 2, "éé"}, // 4 bytes: a byte cut at 3 would split the second é
		{"ééé", 0, ""},
		{"abc", -1, ""},
		{"", 5, ""},
	} {
		got := Cut(tc.s, tc.n)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
