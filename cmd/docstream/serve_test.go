package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"docstream/internal/sitetest"
)

// TestServeProcess is not a test: TestServe re-runs the test binary with
// DOCSTREAM_SERVE_ARGS set, and this function then runs `docstream serve`
// as the real command would.
func TestServeProcess(t *testing.T) {
	args := os.Getenv("DOCSTREAM_SERVE_ARGS")
	if args == "" {
		t.Skip("helper process for TestServe")
	}
	var argv []string
	if err := json.Unmarshal([]byte(args), &argv); err != nil {
		os.Exit(3)
	}
	if err := run(argv); err != nil {
		os.Stderr.WriteString("docstream: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

// serveProc is a `docstream serve` subprocess.
type serveProc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	base string
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	argv, _ := json.Marshal(append([]string{"serve", "--addr", addr}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), "DOCSTREAM_SERVE_ARGS="+string(argv))
	p := &serveProc{cmd: cmd, out: &syncBuffer{}, base: "http://" + addr, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	// Wait until the site answers GET / (the first start creates the site).
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-p.done:
			t.Fatalf("docstream serve exited early: %v\n%s", err, p.out.String())
		default:
		}
		if resp, err := http.Get(p.base + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docstream serve did not answer within 60s:\n%s", p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *serveProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("docstream serve exited with %v after SIGTERM:\n%s", err, p.out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("docstream serve did not stop after SIGTERM:\n%s", p.out.String())
	}
	if !strings.Contains(p.out.String(), "shutting down") {
		t.Errorf("no shutdown message:\n%s", p.out.String())
	}
}

// TestServe runs `docstream serve` as users do: the first start creates the
// site, SIGTERM stops it cleanly, and a second start on the same data
// (folder or PostgreSQL database) keeps everything.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		data := t.TempDir()
		args := []string{"--data", data, "--admin-password", "pw-1", "--url", "http://site.example:8000/"}
		if opts.Store == sitetest.Postgres {
			args = append(args, "--db", sitetest.NewSchema(t))
		}
		p := startServe(t, args...)
		c := &sitetest.Client{Base: p.base, HTTP: &http.Client{}}
		r := c.Do(t, http.MethodPost, "/api/method/login", map[string]any{"usr": "Administrator", "pwd": "pw-1"}).MustOK(t)
		sid := ""
		for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
			if ck.Name == "sid" {
				sid = ck.Value
			}
		}
		admin := &sitetest.Client{Base: p.base, HTTP: &http.Client{}, Header: http.Header{"Cookie": {"sid=" + sid}}}
		admin.MustInsert(t, "Role", map[string]any{"role_name": "Survivor"})
		if !strings.Contains(p.out.String(), "http://site.example:8000") {
			t.Errorf("the site does not report its --url:\n%s", p.out.String())
		}
		// A request racing with SIGTERM either completes or is refused before
		// it starts; it is never cut off half-way or answered with an error.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		inflight := make(chan int, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/resource/Role?limit=0", nil)
			req.Header.Set("Cookie", "sid="+sid)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				inflight <- 0
				return
			}
			resp.Body.Close()
			inflight <- resp.StatusCode
		}()
		p.stop(t)
		if code := <-inflight; code != 0 && code != http.StatusOK {
			t.Errorf("request during shutdown answered %d", code)
		}

		// Second start on the same data: the role, the session and the password survive.
		args[3] = "" // an empty --admin-password: the stored password stays
		p2 := startServe(t, args...)
		admin.Base = p2.base
		admin.Get(t, "/api/resource/Role/Survivor", nil).MustOK(t)
		c2 := &sitetest.Client{Base: p2.base, HTTP: &http.Client{}}
		c2.Do(t, http.MethodPost, "/api/method/login", map[string]any{"usr": "Administrator", "pwd": "pw-1"}).MustOK(t)
		p2.stop(t)
	})
}
