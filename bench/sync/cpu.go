package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTimes is the CPU time this process and the whole machine had used
// at an instant, to split a phase's CPU between the benchmark's process
// (the hub's engine and resolution, and the simulators) and the rest of
// the machine (PostgreSQL, when the server runs here).
type cpuTimes struct {
	self          time.Duration // user and system time of this process
	busy, elapsed time.Duration // the machine's busy and total CPU time, all cores
	ok            bool          // the machine's times were read
}

// clockTick is the unit of /proc/stat, USER_HZ: 100 on every Linux
// architecture Go supports.
const clockTick = 10 * time.Millisecond

func readCPU() cpuTimes {
	var t cpuTimes
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		t.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return t
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return t
	}
	// user nice system idle iowait irq softirq [steal …]: idle and iowait
	// are not busy.
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return t
		}
		if i >= 8 { // guest times are inside user and nice already
			break
		}
		d := time.Duration(n) * clockTick
		t.elapsed += d
		if i != 3 && i != 4 {
			t.busy += d
		}
	}
	t.ok = true
	return t
}

// cpuSince says how the CPU time since from was spent.
func cpuSince(from cpuTimes) string {
	to := readCPU()
	self := (to.self - from.self).Seconds()
	if !from.ok || !to.ok || to.elapsed <= from.elapsed {
		return fmt.Sprintf("this process %.1f core-s", self)
	}
	busy := (to.busy - from.busy).Seconds()
	share := 100 * busy / (to.elapsed - from.elapsed).Seconds()
	return fmt.Sprintf("%.1f core-s on %d cores %.0f%% busy: this process %.1f (simulators included), the rest of the machine %.1f (the database server, when local)",
		busy, runtime.NumCPU(), share, self, max(busy-self, 0))
}
