package web

import (
	"net"
	"net/http"
	"time"

	"docstream/internal/errs"
	"docstream/internal/perm"
)

type loginView struct {
	User       string
	RedirectTo string
	Error      string
}

// serveLogin shows the login form (GET) and logs in (POST): the same check
// and the same `sid` session cookie as /api/method/login.
func (h *Handler) serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		target := safeRedirect(r.URL.Query().Get("redirect-to"))
		if u, err := h.sessionUser(r); err == nil && u.Name != "" && u.Name != "Guest" {
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		h.render(w, r, http.StatusOK, "login", &page{Title: "Login", Body: &loginView{RedirectTo: target}})
	case http.MethodPost:
		h.postLogin(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		h.errorPage(w, r, perm.User{}, methodNotAllowed(r.Method))
	}
}

func (h *Handler) postLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, perm.User{}, errs.BadRequest("Could not read the form: %v", err))
		return
	}
	usr, pwd := r.PostForm.Get("usr"), r.PostForm.Get("pwd")
	v := &loginView{User: usr, RedirectTo: safeRedirect(r.PostForm.Get("redirect-to"))}
	fail := func(code int, msg string) {
		v.Error = msg
		w.Header().Set("X-Docstream-Error", "AuthenticationError")
		h.render(w, r, code, "login", &page{Title: "Login", Body: v})
	}
	if usr == "" || pwd == "" {
		fail(http.StatusOK, "Enter your user name (email) and your password.")
		return
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	if !h.limiter.Allow("user:"+usr) || !h.limiter.Allow("ip:"+ip) {
		fail(http.StatusTooManyRequests, "Too many failed login attempts. Wait a few seconds and try again.")
		return
	}
	u, err := h.app.CheckPassword(r.Context(), usr, pwd)
	if errs.Is(err, errs.KindAuth) {
		fail(http.StatusOK, "Incorrect user or password. Check both and try again.")
		return
	}
	if err != nil {
		fail(statusOf(err), h.userMessage(r, err))
		return
	}
	sid, err := h.app.NewSession(r.Context(), u.Name, sessionTTL)
	if err != nil {
		fail(http.StatusInternalServerError, h.userMessage(r, err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil, Expires: h.now().Add(sessionTTL)})
	http.Redirect(w, r, v.RedirectTo, http.StatusSeeOther)
}

// serveLogout asks for confirmation (GET) and ends the session (POST), so
// that no link on another site can log a user out.
func (h *Handler) serveLogout(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		u, err := h.sessionUser(r)
		if err != nil || u.Name == "" || u.Name == "Guest" {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h.render(w, r, http.StatusOK, "logout", &page{Title: "Log out", User: u, Crumbs: []crumb{{Label: "Home", URL: "/app"}}})
	case http.MethodPost:
		if c, err := r.Cookie("sid"); err == nil && c.Value != "" {
			if err := h.app.EndSession(r.Context(), c.Value); err != nil {
				h.errorPage(w, r, perm.User{}, err)
				return
			}
		}
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		redirect(w, r, "/login", &flash{Kind: "info", Text: "You are logged out."})
	default:
		w.Header().Set("Allow", "GET, POST")
		h.errorPage(w, r, perm.User{}, methodNotAllowed(r.Method))
	}
}
