// Package sitetest starts real docstream sites for tests: SQLite in a temp
// dir, or PostgreSQL in a schema of its own when DOCSTREAM_TEST_POSTGRES holds
// a DSN, served on 127.0.0.1:0 through site.Open exactly as `docstream serve`
// does. It also has small HTTP helpers for Frappe's envelopes and a scenario
// runner for table-driven API tests.
package sitetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver for schema set-up

	"docstream/internal/app"
	"docstream/internal/site"
	"docstream/internal/store/sqlstore"
)

// EnvPostgres names the environment variable holding the PostgreSQL DSN the
// tests may use (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable).
const EnvPostgres = "DOCSTREAM_TEST_POSTGRES"

// Store kinds.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// AdminPassword is the Administrator password of every test site.
const AdminPassword = "admin-Secret-1"

// PostgresDSN returns the configured DSN, or "" when PostgreSQL tests are off.
func PostgresDSN() string { return strings.TrimSpace(os.Getenv(EnvPostgres)) }

// Options choose how NewSite builds a site. The zero value is a fresh SQLite site.
type Options struct {
	// Store is SQLite (default) or Postgres. Postgres skips the test when
	// DOCSTREAM_TEST_POSTGRES is not set.
	Store string
	// DataDir and DSN reopen an existing site (see Site.Restart); empty means new.
	DataDir string
	DSN     string
	// URL is the canonical site URL (default http://<addr>).
	URL string
}

// Site is a running test site.
type Site struct {
	*site.Site
	Opts          Options
	URL           string // base URL to send requests to, no trailing slash
	AdminUser     string // "Administrator"
	AdminPassword string
	APIKey        string // Administrator's API key
	APISecret     string

	closeOnce sync.Once
	closeErr  error
}

// ForEachStore runs fn as a subtest on SQLite, and on PostgreSQL when
// DOCSTREAM_TEST_POSTGRES is set (Litestream's RunWithReplicaClient pattern).
// fn gets Options with Store set; pass them to NewSite or OpenStore.
func ForEachStore(t *testing.T, fn func(t *testing.T, opts Options)) {
	t.Helper()
	for _, kind := range []string{SQLite, Postgres} {
		t.Run(kind, func(t *testing.T) {
			if kind == Postgres && PostgresDSN() == "" {
				t.Skipf("PostgreSQL tests are off: set %s to a DSN to run them", EnvPostgres)
			}
			fn(t, Options{Store: kind})
		})
	}
}

// NewSite opens a site with site.Open, starts it on 127.0.0.1:0 and gives
// Administrator an API key. The site is closed (and its PostgreSQL schema
// dropped) when the test ends.
func NewSite(tb testing.TB, opts Options) *Site {
	tb.Helper()
	s := open(tb, opts)
	s.APISecret, s.APIKey = s.MustGenerateKeys(tb, "Administrator")
	return s
}

func open(tb testing.TB, opts Options) *Site {
	tb.Helper()
	if opts.Store == "" {
		opts.Store = SQLite
	}
	if opts.DataDir == "" {
		opts.DataDir = tb.TempDir()
	}
	if opts.Store == Postgres && opts.DSN == "" {
		opts.DSN = NewSchema(tb)
	}
	if opts.Store == SQLite {
		opts.DSN = ""
	}
	addr := "127.0.0.1:0"
	if opts.URL != "" {
		// The canonical URL is not the listen address, so the address must be
		// known here: reserve a free port.
		addr = freeAddr(tb)
	}
	s := openStarted(tb, site.Config{Addr: addr, DataDir: opts.DataDir, DB: opts.DSN, URL: opts.URL})
	base := s.URL
	if opts.URL != "" {
		base = "http://" + addr
	}
	ts := &Site{Site: s, Opts: opts, URL: base, AdminUser: "Administrator", AdminPassword: AdminPassword}
	tb.Cleanup(func() {
		if err := ts.Close(); err != nil {
			tb.Errorf("close site: %v", err)
		}
	})
	return ts
}

// StartSite opens a site with cfg as `docstream serve` does and starts it;
// it is closed when the test ends. An empty AdminPassword is AdminPassword,
// a nil Log is TestLogger's.
func StartSite(tb testing.TB, cfg site.Config) *site.Site {
	tb.Helper()
	s := openStarted(tb, cfg)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Close(ctx)
	})
	return s
}

// openStarted opens and starts a site, with StartSite's defaults.
func openStarted(tb testing.TB, cfg site.Config) *site.Site {
	tb.Helper()
	if cfg.AdminPassword == "" {
		cfg.AdminPassword = AdminPassword
	}
	if cfg.Log == nil {
		cfg.Log = TestLogger(tb)
	}
	s, err := site.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("open site: %v", err)
	}
	s.Start()
	return s
}

// Close stops the site; it is safe to call more than once.
func (s *Site) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.closeErr = s.Site.Close(ctx)
	})
	return s.closeErr
}

// Restart closes the site and opens the same data again (same folder, same
// PostgreSQL schema), as a second `docstream serve` on the same data would.
// Administrator's API key pair is carried over, not regenerated.
func (s *Site) Restart(tb testing.TB) *Site {
	tb.Helper()
	if err := s.Close(); err != nil {
		tb.Fatalf("close site: %v", err)
	}
	n := open(tb, s.Opts)
	n.APIKey, n.APISecret = s.APIKey, s.APISecret
	return n
}

// Twin opens a second site on the same data while this one keeps running,
// as a second `docstream serve` process on the same PostgreSQL database
// would (same folder, so the same site key). Administrator's API key pair is
// shared. It is closed when the test ends.
func (s *Site) Twin(tb testing.TB) *Site {
	tb.Helper()
	n := open(tb, s.Opts)
	n.APIKey, n.APISecret = s.APIKey, s.APISecret
	return n
}

// MustGenerateKeys makes API keys for user through the document service and
// returns (secret, key).
func (s *Site) MustGenerateKeys(tb testing.TB, user string) (secret, key string) {
	tb.Helper()
	ctx := context.Background()
	sec, err := s.App.GenerateKeys(ctx, app.Admin(), user)
	if err != nil {
		tb.Fatalf("generate keys for %s: %v", user, err)
	}
	d, err := s.App.Get(ctx, app.Admin(), "User", user)
	if err != nil {
		tb.Fatalf("read user %s: %v", user, err)
	}
	return sec, d.Str("api_key")
}

// TokenAuth is Administrator's `Authorization: token key:secret` value.
func (s *Site) TokenAuth() string { return "token " + s.APIKey + ":" + s.APISecret }

// BasicAuth is Administrator's `Authorization: Basic …` value.
func (s *Site) BasicAuth() string { return BasicAuth(s.APIKey, s.APISecret) }

// BasicAuth renders `Basic base64(key:secret)`.
func BasicAuth(key, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))
}

// NewSchema creates a fresh PostgreSQL schema ds_<random> and returns the
// configured DSN with search_path set to it; the schema is dropped when the
// test ends. It skips the test when PostgreSQL is not configured.
func NewSchema(tb testing.TB) string {
	tb.Helper()
	base := PostgresDSN()
	if base == "" {
		tb.Skipf("PostgreSQL tests are off: set %s to a DSN to run them", EnvPostgres)
	}
	b := make([]byte, 6)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		tb.Fatal(err)
	}
	schema := "ds_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("open PostgreSQL: %v", err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		// Parallel tests drop their schemas at once, and PostgreSQL may pick
		// one DROP ... CASCADE as a deadlock victim (40P01): drop it again.
		var err error
		for try := 0; try < 5; try++ {
			if _, err = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); !isDeadlock(err) {
				break
			}
			time.Sleep(time.Duration(try+1) * 50 * time.Millisecond)
		}
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s is not a URL: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenStore opens a bare store of the given kind (a temp SQLite folder or a
// fresh PostgreSQL schema), closed when the test ends.
func OpenStore(tb testing.TB, kind string) *sqlstore.DB {
	tb.Helper()
	ctx := context.Background()
	var db *sqlstore.DB
	var err error
	switch kind {
	case Postgres:
		db, err = sqlstore.OpenPostgres(ctx, NewSchema(tb))
	case SQLite, "":
		db, err = sqlstore.OpenSQLite(ctx, tb.TempDir())
	default:
		tb.Fatalf("unknown store kind %q", kind)
	}
	if err != nil {
		tb.Fatalf("open %s store: %v", kind, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// TestLogger returns a logger that writes to the test log while the test
// runs and drops records after it ended (servers may log during shutdown).
func TestLogger(tb testing.TB) *slog.Logger {
	w := &tbWriter{tb: tb}
	tb.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tbWriter struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// trim shortens a response body for failure messages.
func trim(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		s = s[:2000] + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return s
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("reserve a port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// isDeadlock reports whether err is PostgreSQL's deadlock_detected.
func isDeadlock(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "40P01"
}
