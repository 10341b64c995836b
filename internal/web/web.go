package web

import (
	"bytes"
	"crypto/rand"
	"docstream/internal/api"
	"encoding/hex"
	"fmt"
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

// sessionTTL is how long a desk login lasts (as the API's login).
const sessionTTL = 7 * 24 * time.Hour

// Handler serves the desk. Build it with New.
type Handler struct {
	app     *app.Service
	sv      StreamView
	log     *slog.Logger
	tpl     *templates
	assets  *assets
	limiter *auth.Limiter
	now     func() time.Time
	root    http.Handler // the routes behind cross-origin protection
}

// New builds the desk handler for a site. sv may be nil: the desk then says
// that Event Streaming is not enabled. It panics if the embedded templates do
// not parse (a build defect, caught by every test).
func New(a *app.Service, sv StreamView, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	as := mustAssets()
	h := &Handler{
		app: a, sv: sv, log: log,
		tpl:     mustTemplates(as),
		assets:  as,
		limiter: auth.NewLimiter(10, 6*time.Second, nil),
		now:     time.Now,
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.errorPage(w, r, perm.User{}, errs.Permission("This request came from another site and was refused (cross-origin request protection). Reload the page and try again."))
	}))
	h.root = cop.Handler(http.HandlerFunc(h.route))
	return h
}

// ServeHTTP serves every desk path: /login, /logout, /app… and /assets/….
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.root.ServeHTTP(w, r)
}

// route is the desk's route table. Paths are matched in their escaped form
// and never cleaned: a document name may contain `/` and `://`.
func (h *Handler) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	switch {
	case strings.HasPrefix(p, "/assets/"):
		h.assets.serve(w, r)
	case p == "/favicon.ico":
		http.Redirect(w, r, h.assets.url("favicon.svg"), http.StatusMovedPermanently)
	case p == "/login":
		h.serveLogin(w, r)
	case p == "/logout":
		h.serveLogout(w, r)
	case p == "/desk" || p == "/app" || p == "/app/":
		h.withUser(w, r, func(u perm.User) error { return h.serveHome(w, r, u) })
	case strings.HasPrefix(p, "/app/"):
		h.withUser(w, r, func(u perm.User) error { return h.serveApp(w, r, u, strings.TrimPrefix(p, "/app/")) })
	default:
		u, _ := h.sessionUser(r)
		h.errorPage(w, r, u, errs.NotFound("Page %s not found", r.URL.Path))
	}
}

// serveApp dispatches /app/<rest>: workspaces, desk endpoints under /app/_/,
// and /app/<doctype-slug>[/new|/<name>].
func (h *Handler) serveApp(w http.ResponseWriter, r *http.Request, u perm.User, rest string) error {
	seg, tail, hasTail := strings.Cut(rest, "/")
	if seg == "_" {
		switch tail {
		case "link":
			return h.serveLinkOptions(w, r, u)
		case "stream-peer":
			return h.servePeerPartial(w, r, u)
		}
		return errs.NotFound("Page %s not found", r.URL.Path)
	}
	if ws := workspaceBySlug(seg); ws != nil {
		switch {
		case !hasTail || tail == "":
			return h.serveWorkspace(w, r, u, ws)
		case ws.Slug == "event-streaming" && tail == "dashboard":
			return h.serveDashboardPartial(w, r, u)
		}
		return errs.NotFound("Page %s not found", r.URL.Path)
	}
	dt, err := h.docTypeBySlug(r.Context(), seg)
	if err != nil {
		return err
	}
	tail = strings.TrimSuffix(tail, "/")
	switch {
	case !hasTail || tail == "":
		if r.Method == http.MethodPost {
			return h.postList(w, r, u, dt)
		}
		return h.serveList(w, r, u, dt)
	case tail == "new":
		if r.Method == http.MethodPost {
			return h.postNew(w, r, u, dt)
		}
		return h.serveNew(w, r, u, dt)
	}
	name, err := url.PathUnescape(tail)
	if err != nil || name == "" {
		return errs.BadRequest("Bad document name in the address: %s", tail)
	}
	if r.Method == http.MethodPost {
		return h.postDoc(w, r, u, dt, name)
	}
	return h.serveDoc(w, r, u, dt, name)
}

// withUser runs f for a logged-in user, or sends the browser to the login
// page (htmx requests get an HX-Redirect). Errors f returns become error pages.
func (h *Handler) withUser(w http.ResponseWriter, r *http.Request, f func(perm.User) error) {
	u, err := h.sessionUser(r)
	if err != nil {
		h.errorPage(w, r, perm.User{}, err)
		return
	}
	if u.Name == "" || u.Name == "Guest" {
		h.toLogin(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if err := f(u); err != nil {
		h.errorPage(w, r, u, err)
	}
}

func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	back := r.URL.RequestURI()
	if r.Method != http.MethodGet || isHTMX(r) {
		if ref := r.Header.Get("HX-Current-URL"); ref != "" {
			if u, err := url.Parse(ref); err == nil {
				back = u.RequestURI()
			}
		} else if r.Method != http.MethodGet {
			back = r.URL.Path
		}
	}
	target := "/login?redirect-to=" + url.QueryEscape(back)
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// sessionUser resolves the sid cookie to a user; no or a dead session is Guest.
func (h *Handler) sessionUser(r *http.Request) (perm.User, error) {
	c, err := r.Cookie("sid")
	if err != nil || c.Value == "" || c.Value == "Guest" {
		return app.Guest, nil
	}
	return h.app.SessionUser(r.Context(), c.Value)
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// statusOf maps an application error to the HTTP status the desk answers
// with; it follows Frappe's codes, as package api does.
func statusOf(err error) int { return api.Status(errs.KindOf(err)) }

// userMessage is the text of err a user may see. Internal errors are logged
// here, once, with an id the message shows.
func (h *Handler) userMessage(r *http.Request, err error) string {
	if e, ok := errs.As(err); ok {
		return e.Message
	}
	id := requestID()
	h.log.Error("desk: internal error", "err", err, "error_id", id, "method", r.Method, "path", r.URL.Path)
	return "Internal error (error id " + id + "). The details are in the server log."
}

func requestID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type errorView struct {
	Status  int
	Title   string
	Message string
}

// errorPage renders err as a page (or as a short fragment for htmx).
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, u perm.User, err error) {
	code := statusOf(err)
	if code == http.StatusUnauthorized {
		h.toLogin(w, r)
		return
	}
	title := map[int]string{
		http.StatusForbidden:          "Not permitted",
		http.StatusNotFound:           "Not found",
		http.StatusBadRequest:         "Bad request",
		http.StatusExpectationFailed:  "Could not do that",
		http.StatusConflict:           "Conflict",
		http.StatusTooManyRequests:    "Too many requests",
		http.StatusServiceUnavailable: "Not reachable",
	}[code]
	if title == "" {
		title = "Something went wrong"
	}
	v := &errorView{Status: code, Title: title, Message: h.userMessage(r, err)}
	if code == http.StatusForbidden {
		v.Message = "You do not have enough permissions to see this page. " + v.Message
	}
	if isHTMX(r) {
		h.renderPartial(w, r, code, "error-fragment", v)
		return
	}
	h.render(w, r, code, "error", &page{User: u, Title: title, Body: v})
}

// page is what every full page template gets.
type page struct {
	Title  string
	User   perm.User
	Crumbs []crumb
	Nav    []navItem
	Flash  *flash
	Body   any
}

type crumb struct {
	Label, URL string
}

// render executes a full page into a buffer first, so a template error never
// sends half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, code int, name string, p *page) {
	if p.User.Name != "" && p.User.Name != "Guest" {
		p.Nav = h.nav(r, p.User)
	}
	if p.Flash == nil {
		p.Flash = takeFlash(w, r)
	}
	var buf bytes.Buffer
	if err := h.tpl.page(&buf, name, p); err != nil {
		h.log.Error("desk: render", "page", name, "err", err)
		http.Error(w, "Internal error: the page could not be rendered.", http.StatusInternalServerError)
		return
	}
	writeHTML(w, code, buf.Bytes())
}

// renderPartial executes one named template (an htmx fragment).
func (h *Handler) renderPartial(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	var buf bytes.Buffer
	if err := h.tpl.partial(&buf, name, data); err != nil {
		h.log.Error("desk: render partial", "partial", name, "err", err)
		http.Error(w, "Internal error: the fragment could not be rendered.", http.StatusInternalServerError)
		return
	}
	writeHTML(w, code, buf.Bytes())
}

func writeHTML(w http.ResponseWriter, code int, b []byte) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "SAMEORIGIN")
	hd.Set("Referrer-Policy", "same-origin")
	if hd.Get("Cache-Control") == "" {
		hd.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// flash is a one-time message shown on the next page (after a redirect).
type flash struct {
	Kind string // "ok", "error", "info"
	Text string
}

const flashCookie = "ds_flash"

// redirect sends the browser to target (303) and leaves a flash message.
func redirect(w http.ResponseWriter, r *http.Request, target string, f *flash) {
	if f != nil {
		v := f.Kind + "|" + f.Text
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: encodeCookie(v), Path: "/", MaxAge: 60,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	v, ok := decodeCookie(c.Value)
	if !ok {
		return nil
	}
	kind, text, _ := strings.Cut(v, "|")
	switch kind {
	case "ok", "error", "info":
	default:
		return nil
	}
	if len(text) > 2000 {
		text = text[:2000]
	}
	return &flash{Kind: kind, Text: text}
}

func encodeCookie(s string) string {
	if len(s) > 3000 {
		s = s[:3000]
	}
	return hex.EncodeToString([]byte(s))
}

func decodeCookie(s string) (string, bool) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// safeRedirect keeps a post-login target on this site: a path, never a
// scheme-relative or absolute URL.
func safeRedirect(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, `/\`) {
		return "/app"
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.ContainsAny(s, "\r\n") {
		return "/app"
	}
	if strings.HasPrefix(u.Path, "/login") || strings.HasPrefix(u.Path, "/logout") {
		return "/app"
	}
	return s
}

func methodNotAllowed(method string) error {
	return errs.BadRequest("%s is not allowed here", method)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
