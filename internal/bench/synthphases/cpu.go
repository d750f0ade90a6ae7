package main

import (
	"os"
	"strconv"
	"strings"
)

// procCPU returns, in milliseconds, the user+sys CPU time of pid ("self"
// for this process) and that of its children it has waited for, from
// /proc/<pid>/stat (counted in clock ticks of 10 ms); -1s if it cannot be
// read.
func procCPU(pid string) (own, reaped int64) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return -1, -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	n := func(i int) int64 { v, _ := strconv.ParseInt(f[i], 10, 64); return v * 10 }
	return n(11) + n(12), n(13) + n(14) // utime stime cutime cstime
}

// cpu returns the CPU time this process has used and the CPU time its
// child processes have used: those it has waited for, and those still
// running with everything they have waited for (jsii's two Node
// processes; go build and its compilers while the bundle builds).
func cpu() (app, children int64) {
	app, children = procCPU("self")
	for _, pid := range descendants("self") {
		if own, reaped := procCPU(strconv.Itoa(pid)); own >= 0 {
			children += own + reaped
		}
	}
	return app, children
}

// descendants lists the processes below pid ("self" for this one): jsii's
// Node process and the kernel process it starts.
func descendants(pid string) []int {
	var out []int
	tasks, _ := os.ReadDir("/proc/" + pid + "/task")
	for _, t := range tasks {
		b, _ := os.ReadFile("/proc/" + pid + "/task/" + t.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(f)
			out = append(append(out, n), descendants(f)...)
		}
	}
	return out
}
