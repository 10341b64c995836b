package streambench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// PouchDB runs the PouchDB baseline of shared/bench/pouchdb
// (pouchdb-bench.js) with node. Its dependencies are installed with npm into
// Cache (a copy of the baseline folder, which is read-only where it is
// shared), once.
type PouchDB struct {
	Src      string    // the baseline folder (pouchdb-bench.js, package.json)
	Cache    string    // where the copy and its node_modules live
	Progress io.Writer // npm and benchmark progress (nil: discarded)
}

// Available reports why the baseline cannot run, or nil.
func (p *PouchDB) Available() error {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed", tool)
		}
	}
	for _, f := range []string{"pouchdb-bench.js", "package.json"} {
		if _, err := os.Stat(filepath.Join(p.Src, f)); err != nil {
			return fmt.Errorf("no PouchDB baseline at %s (%v); pass --pouchdb-src", p.Src, err)
		}
	}
	return nil
}

// Prepare copies the baseline into Cache and installs its dependencies when
// they are missing or package.json changed.
func (p *PouchDB) Prepare(ctx context.Context) error {
	if err := p.Available(); err != nil {
		return err
	}
	if err := os.MkdirAll(p.Cache, 0o755); err != nil {
		return err
	}
	changed := false
	for _, f := range []string{"pouchdb-bench.js", "package.json"} {
		b, err := os.ReadFile(filepath.Join(p.Src, f))
		if err != nil {
			return err
		}
		dst := filepath.Join(p.Cache, f)
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, b) {
			continue
		}
		if f == "package.json" {
			changed = true
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(p.Cache, "node_modules", "pouchdb-node")); err == nil && !changed {
		return nil
	}
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = p.Cache
	cmd.Stdout, cmd.Stderr = p.out(), p.out()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s: %w", p.Cache, err)
	}
	return nil
}

func (p *PouchDB) out() io.Writer {
	if p.Progress == nil {
		return io.Discard
	}
	return p.Progress
}

// Run runs `node pouchdb-bench.js args… port=<free>` (at most 5 minutes) and
// returns its JSON result line. A run that ends without one is run once
// more: the baseline removes its work folder right after stopping its
// server, which may still be writing there, and then fails with ENOTEMPTY
// before it prints (seen once in three full runs of bench stream).
func (p *PouchDB) Run(ctx context.Context, args ...string) (map[string]any, error) {
	m, err := p.runOnce(ctx, args...)
	if err != nil && ctx.Err() == nil {
		fmt.Fprintf(p.out(), "PouchDB baseline failed (%v); running it once more\n", err)
		m, err = p.runOnce(ctx, args...)
	}
	return m, err
}

func (p *PouchDB) runOnce(ctx context.Context, args ...string) (map[string]any, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	port := addr[strings.LastIndex(addr, ":")+1:]
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append(append([]string{"pouchdb-bench.js"}, args...), "port="+port)...)
	cmd.Dir = p.Cache
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, p.out()
	runErr := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var m map[string]any
		if json.Unmarshal([]byte(lines[i]), &m) == nil {
			return m, nil // pouchdb-bench.js may exit non-zero while tearing down after its result
		}
	}
	if runErr == nil {
		runErr = errors.New("no result line")
	}
	return nil, fmt.Errorf("node pouchdb-bench.js %s: %w", strings.Join(args, " "), runErr)
}

// Num reads a number from a PouchDB result by a dotted path (e.g.
// "put_to_visible_ms.p99"); 0 when absent.
func Num(m map[string]any, path string) float64 {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return 0
		}
		v = mm[k]
	}
	f, _ := v.(float64)
	return f
}
