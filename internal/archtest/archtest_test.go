package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// domain are the pure packages. They may import the standard library (minus
// the forbidden parts below), each other, and a few pure third-party
// libraries.
var domain = []string{
	"docstream/internal/meta",
	"docstream/internal/doc",
	"docstream/internal/filter",
	"docstream/internal/perm",
	"docstream/internal/errs",
	"docstream/internal/cond",
}

// allowedThirdParty are module path prefixes domain code may use: pure
// libraries with no I/O of their own (jsontext, the JSON tokenizer of the
// encoding/json/v2 proposal, decodes document bodies in doc.FromJSON).
var allowedThirdParty = []string{"github.com/expr-lang/expr", "github.com/go-json-experiment/json"}

// forbidden reports why a dependency of a domain package is not allowed ("" if it is).
func forbidden(dep string) string {
	switch {
	case dep == "database/sql" || strings.HasPrefix(dep, "database/sql/"):
		return "SQL"
	case dep == "net/http" || strings.HasPrefix(dep, "net/http/"):
		return "HTTP"
	case dep == "docstream/internal/store" || strings.HasPrefix(dep, "docstream/internal/store/"):
		return "storage"
	case dep == "docstream/internal/jobs" || strings.HasPrefix(dep, "docstream/internal/jobs/"):
		return "job code"
	case strings.HasPrefix(dep, "docstream/"):
		for _, d := range domain {
			if dep == d {
				return ""
			}
		}
		return "a non-domain docstream package"
	}
	first, _, _ := strings.Cut(dep, "/")
	if strings.Contains(first, ".") { // a module outside the standard library
		for _, p := range allowedThirdParty {
			if dep == p || strings.HasPrefix(dep, p+"/") {
				return ""
			}
		}
		return "a third-party package not on the domain allow-list"
	}
	return ""
}

type pkg struct {
	ImportPath string
	Deps       []string
	Imports    []string
	Standard   bool
}

// list runs `go list -deps -json` on the domain packages (tests excluded:
// test files may use anything).
func list(t *testing.T) map[string]pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	touchSources(t)
	args := append([]string{"list", "-deps", "-json=ImportPath,Deps,Imports,Standard"}, domain...)
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// touchSources reads the domain packages' files and go.mod. go test caches
// a passing result until a file the test opened changes; the imports are
// read by a `go list` child process, which the cache does not see, so
// without this a new import into the domain kept the old "ok".
func touchSources(t *testing.T) {
	t.Helper()
	for _, d := range domain {
		dir := filepath.Join("..", strings.TrimPrefix(d, "docstream/internal/"))
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if _, err := os.ReadFile(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.ReadFile(filepath.Join("..", "..", "go.mod"))
}

func TestDomainImports(t *testing.T) {
	t.Parallel()
	pkgs := list(t)
	for _, d := range domain {
		t.Run(strings.TrimPrefix(d, "docstream/internal/"), func(t *testing.T) {
			p, ok := pkgs[d]
			if !ok {
				t.Fatalf("go list did not report %s", d)
			}
			for _, dep := range p.Deps {
				if why := forbidden(dep); why != "" {
					t.Errorf("%s depends on %s (%s), via %s", d, dep, why, path(pkgs, d, dep))
				}
			}
		})
	}
}

// path finds an import chain from → to, for the failure message.
func path(pkgs map[string]pkg, from, to string) string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == to {
			var chain []string
			for p := to; p != ""; p = prev[p] {
				chain = append([]string{p}, chain...)
			}
			return strings.Join(chain, " → ")
		}
		for _, im := range pkgs[cur].Imports {
			if _, seen := prev[im]; !seen {
				prev[im] = cur
				queue = append(queue, im)
			}
		}
	}
	return "?"
}

func TestForbidden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dep  string
		want bool
	}{
		{"fmt", false},
		{"encoding/json", false},
		{"net/url", false},
		{"database/sql", true},
		{"database/sql/driver", true},
		{"net/http", true},
		{"net/http/httptest", true},
		{"docstream/internal/store", true},
		{"docstream/internal/store/sqlstore", true},
		{"docstream/internal/jobs", true},
		{"docstream/internal/app", true},
		{"docstream/internal/meta", false},
		{"github.com/expr-lang/expr/vm", false},
		{"github.com/jackc/pgx/v5", true},
		{"modernc.org/sqlite", true},
	}
	for _, c := range cases {
		if got := forbidden(c.dep) != ""; got != c.want {
			t.Errorf("forbidden(%q) = %v, want %v", c.dep, got, c.want)
		}
	}
}
