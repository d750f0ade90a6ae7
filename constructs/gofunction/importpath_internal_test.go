package gofunction

import "testing"

// Module paths need no dot in their first element ("go mod init webteam",
// and CDK's Go template, make such modules), so neither do the packages of
// such a module; what is not a package path at all is refused before
// anything is built.
func TestImportPathPattern(t *testing.T) {
	for path, ok := range map[string]bool{
		"github.com/org/repo/lambdas/fn": true,
		"webteam/lambdas/resize":         true,
		"webteam":                        true,
		"example.com/v2/cmd/x_y~z-1.0":   true,
		"./lambdas/x":                    false,
		"../x":                           false,
		"/abs/path":                      false,
		"webteam/":                       false,
		"webteam//x":                     false,
		"webteam/.hidden":                false,
		"web team/x":                     false,
		"":                               false,
	} {
		if got := importPathPattern.MatchString(path); got != ok {
			t.Errorf("importPathPattern.MatchString(%q) = %v, want %v", path, got, ok)
		}
	}
}
