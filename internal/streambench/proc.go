package streambench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is `docstream serve` running as a child process on a fixed address
// and data folder, so it can be killed and started again on the same site.
type Server struct {
	Bin  string   // the docstream binary
	Addr string   // 127.0.0.1:<port>
	Dir  string   // --data
	DB   string   // --db (PostgreSQL DSN), optional
	Env  []string // extra environment (e.g. DOCSTREAM_STREAM_CATCHUP=1s)
	CPUs string   // run it on these CPUs only (taskset -c), if set

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	starts int
}

// URL is the site's canonical URL.
func (s *Server) URL() string { return "http://" + s.Addr }

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start runs the server and waits until it answers HTTP. Its stderr is
// appended to <Dir>.log.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return errors.New("server already running")
	}
	args := []string{"serve", "--addr", s.Addr, "--data", s.Dir, "--admin-password", AdminPassword}
	if s.DB != "" {
		args = append(args, "--db", s.DB)
	}
	logf, err := os.OpenFile(s.LogPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.starts++
	fmt.Fprintf(logf, "---- start %d at %s\n", s.starts, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(s.Bin, args...)
	if s.CPUs != "" {
		cmd = exec.Command("taskset", append([]string{"-c", s.CPUs, s.Bin}, args...)...) // taskset execs the binary: same pid
	}
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		s.mu.Unlock()
		return fmt.Errorf("start %s: %w", s.Bin, err)
	}
	exited := make(chan struct{})
	s.cmd, s.exited, s.err = cmd, exited, nil
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(exited)
	}()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	up := make(chan error, 1)
	go func() { up <- NewClient(s.URL()).WaitUp(wctx) }()
	select {
	case err := <-up:
		if err != nil {
			s.Kill()
			return fmt.Errorf("%w (log: %s)", err, s.LogTail(20))
		}
		return nil
	case <-exited:
		cancel()
		s.forget()
		return fmt.Errorf("docstream serve exited at start: %v (log: %s)", s.err, s.LogTail(20))
	}
}

// LogPath is where the server's output goes.
func (s *Server) LogPath() string {
	return strings.TrimSuffix(s.Dir, string(filepath.Separator)) + ".log"
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	f, err := os.Open(s.LogPath())
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// PID is the running process id (0 when stopped).
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	s.mu.Lock()
	ex := s.exited
	s.mu.Unlock()
	if ex == nil {
		return false
	}
	select {
	case <-ex:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the process to die.
func (s *Server) Kill() { s.signal(syscall.SIGKILL, 0) }

// Stop sends SIGTERM and waits up to 30 s for a clean exit (then SIGKILL).
func (s *Server) Stop() { s.signal(syscall.SIGTERM, 30*time.Second) }

func (s *Server) signal(sig syscall.Signal, grace time.Duration) {
	s.mu.Lock()
	cmd, ex := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-ex:
		case <-time.After(grace):
			cmd.Process.Kill()
			<-ex
		}
	} else {
		<-ex
	}
	s.forget()
}

func (s *Server) forget() {
	s.mu.Lock()
	s.cmd, s.exited = nil, nil
	s.mu.Unlock()
}

// ProcStatus reads VmRSS and VmHWM (peak RSS), in bytes, from
// /proc/<pid>/status (Linux only).
func ProcStatus(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n * 1024
		case "VmHWM":
			hwm = n * 1024
		}
	}
	return rss, hwm, nil
}
