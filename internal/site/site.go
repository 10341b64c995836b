// Package site wires one docstream site: store, document service, streaming,
// HTTP. cmd/docstream and the end-to-end tests build sites through it, so the
// tests run exactly what users run.
package site

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"docstream/internal/api"
	"docstream/internal/app"
	"docstream/internal/obs"
	"docstream/internal/secret"
	"docstream/internal/store/sqlstore"
	"docstream/internal/stream"
	"docstream/internal/web"
)

// Config is one site's configuration.
type Config struct {
	Addr          string // listen address, e.g. 127.0.0.1:8000 (":0" picks a port)
	DataDir       string // holds site.db (SQLite) and site_config.json (the site key)
	DB            string // postgres:// URL; empty means SQLite in DataDir
	URL           string // canonical base URL; default http://<addr>
	AdminPassword string
	Log           *slog.Logger
	Stream        stream.Config
}

// Site is a running site.
type Site struct {
	Cfg     Config
	Store   *sqlstore.DB
	App     *app.Service
	API     *api.Server
	Stream  *stream.Streamer
	Metrics *obs.Metrics
	// Web serves the desk UI (paths other than /api and /metrics), if set.
	Web      http.Handler
	URL      string
	listener net.Listener
	srv      *http.Server
	bg       context.CancelFunc
	done     chan struct{}
}

// Addr is the address the site listens on (its URL may name another).
func (s *Site) Addr() string { return s.listener.Addr().String() }

// Open creates or opens the site and binds its listener (so the URL is known
// before Start). It does not serve yet.
func Open(ctx context.Context, cfg Config) (*Site, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if cfg.DataDir == "" {
		return nil, errors.New("--data is required (the folder that holds the site)")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", cfg.DataDir, err)
	}
	key, err := siteKey(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	box, err := secret.New(key, rand.Reader)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	url := strings.TrimSuffix(cfg.URL, "/")
	if url == "" {
		url = "http://" + ln.Addr().String()
	}
	st, err := sqlstore.Open(ctx, cfg.DataDir, cfg.DB)
	if err != nil {
		ln.Close()
		return nil, err
	}
	a := app.New(st, box)
	s := &Site{Cfg: cfg, Store: st, App: a, URL: url, listener: ln, Metrics: obs.NewMetrics()}
	if _, _, ok := st.WALStats(); ok {
		s.Metrics.WatchWAL(func() obs.WALStats {
			f, w, _ := st.WALStats()
			return obs.WALStats{Frames: f, WriterPasses: w}
		})
	}
	s.API = api.NewServer(a, cfg.Log)
	if s.Stream, err = stream.New(a, url, cfg.Log, s.Metrics, cfg.Stream); err != nil {
		st.Close()
		ln.Close()
		return nil, err
	}
	host, _ := os.Hostname()
	abs, _ := filepath.Abs(cfg.DataDir)
	s.Stream.Owner = host + "|" + ln.Addr().String() + "|" + abs
	s.Stream.Register(s.API)
	s.API.Extra = http.HandlerFunc(s.serveExtra)
	s.Web = web.New(a, webView{s.Stream}, cfg.Log)
	if err := a.Setup(ctx, cfg.AdminPassword); err != nil {
		st.Close()
		ln.Close()
		return nil, fmt.Errorf("set up site: %w", err)
	}
	return s, nil
}

// Start serves HTTP and starts background work until Close.
func (s *Site) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.bg = cancel
	if err := s.Stream.Start(ctx); err != nil {
		s.Cfg.Log.Error("start streaming", "err", err)
	}
	s.srv = &http.Server{Handler: s.API, ReadHeaderTimeout: 10 * time.Second}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Cfg.Log.Error("serve", "err", err)
		}
	}()
}

// Close stops serving (in-flight requests finish, up to the context's
// deadline), stops background work and closes the store.
func (s *Site) Close(ctx context.Context) error {
	var err error
	if s.srv != nil {
		err = s.srv.Shutdown(ctx)
		<-s.done
	} else {
		s.listener.Close()
	}
	if s.bg != nil {
		s.bg()
		s.Stream.Close()
	}
	if e := s.Store.Close(); err == nil {
		err = e
	}
	return err
}

// siteKey reads the site's encryption key from site_config.json, creating it
// on first start. DOCSTREAM_ENCRYPTION_KEY overrides it (several processes on
// one PostgreSQL database must share the key).
func siteKey(dir string) (string, error) {
	if k := os.Getenv("DOCSTREAM_ENCRYPTION_KEY"); k != "" {
		return k, nil
	}
	path := filepath.Join(dir, "site_config.json")
	var cfg map[string]any
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		if k, ok := cfg["encryption_key"].(string); ok && k != "" {
			return k, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if cfg == nil {
		cfg = map[string]any{}
	}
	k, err := secret.NewKey(rand.Reader)
	if err != nil {
		return "", err
	}
	cfg["encryption_key"] = k
	b, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return k, nil
}

// serveExtra serves /metrics and hands every other non-API path to the desk.
func (s *Site) serveExtra(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/metrics" {
		s.Metrics.Handler().ServeHTTP(w, r)
		return
	}
	if s.Web != nil {
		s.Web.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}
