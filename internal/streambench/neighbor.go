package streambench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
)

// On a machine of two CPUs, (c) measures the producers on CPU 0 while the
// streaming consumer runs on CPU 1, as it would on a machine of its own.
// But CPU 1 is not a machine of its own: with it idle, CPU 0 ran faster than
// with it busy (the two share caches, memory and, under a hypervisor,
// perhaps a core and its clock). The streaming consumer keeps CPU 1 busy, so
// the streaming producer was measured on a slower CPU 0 than its baselines
// (no consumer; consumer stopped), whose CPU 1 was idle: with a busy loop
// of inserts on CPU 1 in all three, the streaming row came out at 0.87
// where it was 0.70-0.73 with CPU 1 idle in the baselines (docs/benchmarks.md).
//
// So a neighbor keeps CPU 1 busy during every phase on CPU 0: a child
// process at the lowest priority (nice 19), which inserts and deletes
// documents in a site of its own, in a loop. It takes CPU 1 only when
// nothing else wants it, so the streaming consumer runs as it did, and it
// is stopped (SIGSTOP) while the producers use both CPUs.

// NeighborKeep is how many documents the neighbor keeps: it deletes the
// oldest as it inserts, so its database stays small.
const NeighborKeep = 10000

// RunNeighbor is the neighbor's loop, in the child (`docstream bench
// neighbor`): a site in dir, documents inserted and the oldest deleted
// beyond keep, until ctx ends (or after limit inserts, if limit > 0). It
// says on out when it starts inserting, and every 10,000 inserts.
func RunNeighbor(ctx context.Context, dir string, keep, limit int, out io.Writer) error {
	s, err := OpenSite(ctx, SiteOptions{Dir: dir})
	if err != nil {
		return err
	}
	defer s.Close(context.Background())
	if err := SetUpAndCreate(ctx, NewClient(s.URL)); err != nil {
		return err
	}
	fmt.Fprintln(out, "neighbor: inserting")
	for i := 0; limit <= 0 || i < limit; i++ {
		if _, err := s.App.Insert(ctx, app.Admin(), BenchDocType, doc.Doc(CustomerDoc("N-", i)), app.Opts{}); err != nil {
			return ignoreEnd(ctx, err)
		}
		if (i+1)%10000 == 0 {
			fmt.Fprintf(out, "neighbor: %d inserts\n", i+1)
		}
		if i >= keep {
			old := CustomerDoc("N-", i-keep)["code"].(string)
			if err := s.App.Delete(ctx, app.Admin(), BenchDocType, old, app.Opts{}); err != nil {
				return ignoreEnd(ctx, err)
			}
		}
	}
	return nil
}

func ignoreEnd(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// neighbor is the running child.
type neighbor struct {
	cmd  *exec.Cmd
	log  string // its output
	done chan error
}

// startNeighbor starts the neighbor on cpu, stopped until resume.
func startNeighbor(o *Options, dir, cpu string) (*neighbor, error) {
	if o.Bin == "" {
		return nil, errors.New("no docstream binary to run the neighbor")
	}
	nice, err := exec.LookPath("nice")
	if err != nil {
		return nil, fmt.Errorf("the neighbor needs nice(1): %w", err)
	}
	logPath := dir + ".log"
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// nice and taskset exec what follows: one process, every thread at
	// the lowest priority on cpu.
	cmd := exec.Command(nice, "-n", "19", "taskset", "-c", cpu, o.Bin, "bench", "neighbor", "--dir", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start the neighbor: %w", err)
	}
	n := &neighbor{cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { n.done <- cmd.Wait(); logf.Close() }()
	// It is paused once its site is set up and it inserts: set up while
	// resumed only for the phases on CPU 0, at the lowest priority, it
	// had not begun inserting by the end of a short run.
	if err := n.waitInserting(time.Minute); err != nil {
		n.stop()
		return nil, err
	}
	n.pause()
	return n, nil
}

// waitInserting waits until the neighbor says it inserts.
func (n *neighbor) waitInserting(limit time.Duration) error {
	for give := time.Now().Add(limit); ; time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(n.log); strings.Contains(string(b), "neighbor: inserting") {
			return nil
		}
		if err := n.exited(); err != nil {
			return err
		}
		if time.Now().After(give) {
			b, _ := os.ReadFile(n.log)
			return fmt.Errorf("the neighbor on CPU 1 did not start inserting in %s (log: %s)", limit, b)
		}
	}
}

func (n *neighbor) pause()  { n.cmd.Process.Signal(syscall.SIGSTOP) }
func (n *neighbor) resume() { n.cmd.Process.Signal(syscall.SIGCONT) }

// exited reports an early end of the neighbor (a failure: it loops until
// stopped), with its log.
func (n *neighbor) exited() error {
	select {
	case err := <-n.done:
		n.done <- err
		b, _ := os.ReadFile(n.log)
		return fmt.Errorf("the neighbor on CPU 1 exited: %v (log: %s)", err, b)
	default:
		return nil
	}
}

// stop ends the neighbor (SIGKILL ends a stopped process too).
func (n *neighbor) stop() {
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}
