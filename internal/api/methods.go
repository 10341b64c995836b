package api

import (
	"net"
	"net/http"
	"time"

	"docstream/internal/app"
	"docstream/internal/errs"
)

const sessionTTL = 7 * 24 * time.Hour

var postOnly = []string{http.MethodPost, http.MethodPut}

func (s *Server) registerCore() {
	s.Register("login", Method{AllowGuest: true, Fn: s.login})
	s.Register("logout", Method{AllowGuest: true, Fn: s.logout})
	s.Register("frappe.auth.get_logged_user", Method{Fn: func(c *Call) (any, error) { return c.User.Name, nil }})
	s.Register("frappe.core.doctype.user.user.generate_keys", Method{HTTP: []string{http.MethodPost}, Fn: func(c *Call) (any, error) {
		user := c.Args.Str("user")
		if user == "" {
			user = c.User.Name
		}
		sec, err := s.App.GenerateKeys(c.Ctx, c.User, user)
		if err != nil {
			return nil, err
		}
		return map[string]any{"api_secret": sec}, nil
	}})
	s.registerClient()
}

// login checks usr/pwd, rate-limited per user and per client IP, and sets the
// sid cookie (HttpOnly, SameSite=Lax) as Frappe does.
func (s *Server) login(c *Call) (any, error) {
	usr, pwd := c.Args.Str("usr"), c.Args.Str("pwd")
	ip, _, _ := net.SplitHostPort(c.R.RemoteAddr)
	if !s.Limiter.Allow("user:"+usr) || !s.Limiter.Allow("ip:"+ip) {
		return nil, errs.New(errs.KindRateLimit, "TooManyRequestsError", "Too many failed login attempts. Try again in a few seconds.")
	}
	u, err := s.App.CheckPassword(c.Ctx, usr, pwd)
	if err != nil {
		return nil, err
	}
	sid, err := s.App.NewSession(c.Ctx, u.Name, sessionTTL)
	if err != nil {
		return nil, err
	}
	http.SetCookie(c.W, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.SecureCookies, Expires: time.Now().Add(sessionTTL)})
	http.SetCookie(c.W, &http.Cookie{Name: "user_id", Value: u.Name, Path: "/", SameSite: http.SameSiteLaxMode})
	http.SetCookie(c.W, &http.Cookie{Name: "system_user", Value: "yes", Path: "/", SameSite: http.SameSiteLaxMode})
	var full string
	_ = s.App.View(c.Ctx, func(t *app.Tx) error {
		dt, _ := t.Meta("User")
		d, _ := t.Find(c.Ctx, dt, u.Name, false)
		if d != nil {
			full = d.Str("full_name")
		}
		return nil
	})
	c.Extra = map[string]any{"home_page": "/app", "full_name": full}
	return "Logged In", nil
}

func (s *Server) logout(c *Call) (any, error) {
	if ck, err := c.R.Cookie("sid"); err == nil {
		if err := s.App.EndSession(c.Ctx, ck.Value); err != nil {
			return nil, err
		}
	}
	http.SetCookie(c.W, &http.Cookie{Name: "sid", Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return nil, nil
}
