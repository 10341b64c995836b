// Package api serves Frappe's HTTP dialect: /api/resource, /api/method and
// root `cmd=` calls, with session, token and Basic authentication and
// Frappe's JSON envelopes. Handlers decode, call a service and encode.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"docstream/internal/app"
	"docstream/internal/auth"
	"docstream/internal/errs"
	"docstream/internal/perm"
)

// Call is one whitelisted method invocation.
type Call struct {
	Ctx  context.Context
	User perm.User
	Args *Args
	R    *http.Request
	W    http.ResponseWriter
	// Extra top-level keys for the response (login adds home_page, full_name).
	Extra map[string]any
}

// Method is a whitelisted function (Frappe's @frappe.whitelist).
type Method struct {
	Fn         func(c *Call) (any, error)
	AllowGuest bool
	HTTP       []string // allowed HTTP methods; empty means any
}

// Server is the HTTP front of one site.
type Server struct {
	App     *app.Service
	Log     *slog.Logger
	Limiter *auth.Limiter // login attempts per user and per IP
	// Extra handles paths this package does not (desk UI, /metrics); it is
	// tried before the site page for non-API paths.
	Extra   http.Handler
	methods map[string]Method
	// SecureCookies marks cookies Secure (sites served over https).
	SecureCookies bool
}

// NewServer builds the API server with Frappe's core methods registered.
func NewServer(a *app.Service, log *slog.Logger) *Server {
	s := &Server{App: a, Log: log, methods: map[string]Method{},
		Limiter: auth.NewLimiter(10, 6*time.Second, nil)}
	s.registerCore()
	return s
}

// Register whitelists a method under its dotted name.
func (s *Server) Register(name string, m Method) { s.methods[name] = m }

// ServeHTTP dispatches as Frappe's app.py does. Paths are matched on the
// escaped form and never cleaned: document names may contain `/` and `//`.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := make([]byte, 6)
	rand.Read(b)
	r = r.WithContext(context.WithValue(r.Context(), ridKey{}, hex.EncodeToString(b)))
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.Log.Error("panic", "panic", p, "path", r.URL.Path)
			WriteError(w, r, s.Log, errs.New(errs.KindInternal, "Exception", "Internal error"))
		}
	}()
	path := r.URL.EscapedPath()
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusOK)
		return
	}
	isAPI := strings.HasPrefix(path, "/api/")
	if !isAPI && s.Extra != nil && path != "/" && r.URL.Query().Get("cmd") == "" {
		s.Extra.ServeHTTP(w, r)
		return
	}
	args, err := readArgs(r)
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	// Root (or any path) `cmd=` requests are RPC calls (FrappeClient's post_request).
	if cmd := args.Str("cmd"); cmd != "" && !strings.HasPrefix(path, "/api/resource") {
		s.serveMethod(w, r, args, cmd)
		return
	}
	switch {
	case path == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`<!doctype html><title>docstream</title><p>docstream site. <a href="/app">Open the desk</a>.</p>`))
	case strings.HasPrefix(path, "/api/method/"):
		name := strings.TrimPrefix(path, "/api/method/")
		if i := strings.Index(name, "/"); i >= 0 {
			name = name[:i]
		}
		name, _ = url.PathUnescape(name)
		s.serveMethod(w, r, args, name)
	case strings.HasPrefix(path, "/api/resource/") || strings.HasPrefix(path, "/api/v1/resource/"):
		rest := strings.TrimPrefix(strings.TrimPrefix(path, "/api/v1"), "/api")
		s.serveResource(w, r, args, strings.TrimPrefix(rest, "/resource/"))
	default:
		WriteError(w, r, s.Log, errs.NotFound("Not found: %s", r.URL.Path))
	}
}

// authenticate resolves the caller: Authorization header first, then the sid cookie.
func (s *Server) authenticate(r *http.Request) (perm.User, error) {
	ctx := r.Context()
	key, sec, ok, err := auth.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return perm.User{}, errs.Auth("Invalid Authorization header")
	}
	if ok {
		u, err := s.App.UserByAPIKey(ctx, key, sec)
		if err != nil {
			if errs.Is(err, errs.KindAuth) {
				return perm.User{}, errs.Auth("Invalid API key or secret")
			}
			return perm.User{}, err
		}
		return u, nil
	}
	if c, err := r.Cookie("sid"); err == nil && c.Value != "" && c.Value != "Guest" {
		return s.App.SessionUser(ctx, c.Value)
	}
	return app.Guest, nil
}

func (s *Server) serveMethod(w http.ResponseWriter, r *http.Request, args *Args, name string) {
	m, ok := s.methods[name]
	if !ok {
		WriteError(w, r, s.Log, errs.NotFound("Failed to get method for command %s", name))
		return
	}
	if len(m.HTTP) > 0 && !contains(m.HTTP, r.Method) {
		WriteError(w, r, s.Log, errs.Permission("Not permitted: %s only accepts %s", name, strings.Join(m.HTTP, ", ")))
		return
	}
	u, err := s.authenticate(r)
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	if u.Name == "Guest" && !m.AllowGuest {
		WriteError(w, r, s.Log, errs.Permission("Not permitted: log in to call %s", name))
		return
	}
	c := &Call{Ctx: r.Context(), User: u, Args: args, R: r, W: w}
	out, err := m.Fn(c)
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	if raw, ok := out.(RawMessage); ok && len(c.Extra) == 0 {
		writeRawMessage(w, raw)
		return
	}
	body := map[string]any{}
	for k, v := range c.Extra {
		body[k] = v
	}
	if out != nil {
		body["message"] = out
	}
	writeJSON(w, http.StatusOK, body)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
