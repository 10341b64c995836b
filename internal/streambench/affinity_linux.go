package streambench

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// pinProcess runs this process (every thread, and the threads they start)
// on CPU cpu only, with GOMAXPROCS 1, until restore is called.
func pinProcess(cpu int) (restore func(), err error) {
	var old, one unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return nil, err
	}
	one.Set(cpu)
	if err := setAllThreads(&one); err != nil {
		setAllThreads(&old)
		return nil, err
	}
	procs := runtime.GOMAXPROCS(1)
	return func() {
		setAllThreads(&old)
		runtime.GOMAXPROCS(procs)
	}, nil
}

func setAllThreads(set *unix.CPUSet) error {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, set); err != nil && err != unix.ESRCH { // ESRCH: the thread has exited
			return fmt.Errorf("set the CPU affinity of thread %d: %w", tid, err)
		}
	}
	return nil
}
