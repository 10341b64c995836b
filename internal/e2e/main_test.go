// Package e2e holds end-to-end tests of Event Streaming that run docstream as
// users do: `docstream serve` subprocesses killed with SIGKILL (crash tests)
// and sites on PostgreSQL with concurrent writers (commit-ordered seq).
package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// docstreamBinary builds ./cmd/docstream once per test binary and returns
// its path.
func docstreamBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = err
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		if buildDir, buildErr = os.MkdirTemp("", "docstream-e2e-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "docstream")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/docstream")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{err: err, out: string(b)}
		}
	})
	if buildErr != nil {
		t.Fatalf("build docstream: %v", buildErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }
