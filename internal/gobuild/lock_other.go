//go:build !unix

package gobuild

// lock is a no-op where flock is unavailable: concurrent synths on such
// systems should set GOLDEN_AMI_BUILD_CACHE to a per-process directory.
func lock(string) (func(), error) { return func() {}, nil }
