package app

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"strings"
	"time"

	"docstream/internal/auth"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/perm"
)

// Guest is the user of unauthenticated requests.
var Guest = perm.User{Name: "Guest", Roles: map[string]bool{"Guest": true}}

// registerUserHooks keeps passwords out of the User table: new_password is
// hashed into __Auth (fieldname "password") and cleared.
func (s *Service) registerUserHooks() {
	forget := func(ctx context.Context, e *HookEvent) error {
		s.auth.clear()
		e.Tx.AfterCommit(s.auth.clear) // and again once the change is visible
		return nil
	}
	s.On(OnUpdate, "User", forget)
	s.On(OnTrash, "User", forget)
	s.On(Validate, "User", func(ctx context.Context, e *HookEvent) error {
		d := e.Doc
		if !strings.Contains(d.Str("email"), "@") && d.Name() != perm.Administrator && d.Name() != "Guest" {
			return errs.Invalid("InvalidEmailAddressError", "%s is not a valid Email Address", d.Str("email"))
		}
		d["full_name"] = strings.TrimSpace(d.Str("first_name") + " " + d.Str("last_name"))
		if pw := d.Str("new_password"); pw != "" {
			h, err := auth.HashPassword(pw, s.Rand)
			if err != nil {
				return err
			}
			if err := e.Tx.SetSecret(ctx, "User", d.Name(), "password", h); err != nil {
				return err
			}
			d["new_password"] = nil
		}
		return nil
	})
}

// LoadUser returns the user with its roles (Administrator has every role).
// A disabled or missing user is an AuthenticationError.
func (t *Tx) LoadUser(ctx context.Context, name string) (perm.User, error) {
	if name == "Guest" {
		return Guest, nil
	}
	dt, err := t.Meta("User")
	if err != nil {
		return perm.User{}, err
	}
	d, err := t.Find(ctx, dt, name, false)
	if err != nil {
		return perm.User{}, err
	}
	if d == nil || d.Int("enabled") == 0 {
		return perm.User{}, errs.Auth("User disabled or missing")
	}
	u := perm.User{Name: d.Name(), Roles: map[string]bool{"All": true, "Guest": true}}
	for _, r := range d.Rows("roles") {
		u.Roles[r.Str("role")] = true
	}
	if u.Name == perm.Administrator {
		u.Roles["Administrator"], u.Roles["System Manager"] = true, true
	}
	return u, nil
}

// CheckPassword verifies a login. The error is the same for a wrong password
// and an unknown user, so logins do not reveal which users exist.
func (s *Service) CheckPassword(ctx context.Context, usr, pwd string) (perm.User, error) {
	if usr == "" || pwd == "" {
		return perm.User{}, errs.Auth("Incomplete login details")
	}
	var u perm.User
	err := s.View(ctx, func(t *Tx) error {
		h, ok, err := t.GetSecret(ctx, "User", usr, "password")
		if err != nil {
			return err
		}
		if !ok || !auth.CheckPassword(h, pwd) {
			return errs.Auth("Invalid login credentials")
		}
		u, err = t.LoadUser(ctx, usr)
		return err
	})
	return u, err
}

// UserByAPIKey authenticates `key:secret` against User.api_key and the
// decrypted api_secret, comparing in constant time.
func (s *Service) UserByAPIKey(ctx context.Context, key, sec string) (perm.User, error) {
	if u, ok := s.auth.get(key, sec, s.Now()); ok {
		return u, nil
	}
	var u perm.User
	err := s.View(ctx, func(t *Tx) error {
		dt, err := t.Meta("User")
		if err != nil {
			return err
		}
		rows, err := t.Select(ctx, userByKey(dt, key))
		if err != nil {
			return err
		}
		if len(rows) != 1 {
			return errs.Auth("Invalid API key")
		}
		want, err := t.Password(ctx, "User", rows[0].Name(), "api_secret")
		if err != nil {
			return err
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(sec)) != 1 {
			return errs.Auth("Invalid API secret")
		}
		u, err = t.LoadUser(ctx, rows[0].Name())
		return err
	})
	if err == nil {
		s.auth.put(key, sec, u, s.Now())
	}
	return u, err
}

// GenerateKeys makes a new API secret for user (and a key if it has none),
// as frappe.core.doctype.user.user.generate_keys does. Only System Managers.
func (s *Service) GenerateKeys(ctx context.Context, caller perm.User, user string) (string, error) {
	if !caller.HasRole("System Manager") {
		return "", errs.Permission("Only System Manager can generate API keys")
	}
	var sec string
	err := s.Update(ctx, func(t *Tx) error {
		dt, err := t.Meta("User")
		if err != nil {
			return err
		}
		d, err := t.Load(ctx, dt, user, true)
		if err != nil {
			return err
		}
		if sec, err = auth.RandomHex(s.Rand, 15); err != nil {
			return err
		}
		patch := doc.Doc{"api_secret": sec}
		if d.Str("api_key") == "" {
			k, err := auth.RandomHex(s.Rand, 15)
			if err != nil {
				return err
			}
			patch["api_key"] = k
		}
		_, err = t.Save(ctx, caller, "User", user, patch, Opts{IgnorePermissions: true})
		return err
	})
	return sec, err
}

// NewSession creates a login session and returns its sid.
func (s *Service) NewSession(ctx context.Context, user string, ttl time.Duration) (string, error) {
	b := make([]byte, 24)
	if _, err := io.ReadFull(s.Rand, b); err != nil {
		return "", err
	}
	sid := base64.RawURLEncoding.EncodeToString(b)
	err := s.Update(ctx, func(t *Tx) error { return t.CreateSession(ctx, sid, user, s.Now().Add(ttl)) })
	return sid, err
}

// SessionUser returns the user of a live session, or Guest. A session found
// is trusted for authTTL like an API key: reading it and its user cost a
// browser's or a script's every request a transaction and four queries.
// Logging out forgets it at once here; a User change forgets every one.
func (s *Service) SessionUser(ctx context.Context, sid string) (perm.User, error) {
	if u, ok := s.auth.get(sessionKey(sid), sid, s.Now()); ok {
		return u, nil
	}
	u := Guest
	found := false
	err := s.View(ctx, func(t *Tx) error {
		name, ok, err := t.Tx.SessionUser(ctx, sid, s.Now())
		if err != nil || !ok {
			return err
		}
		u, err = t.LoadUser(ctx, name)
		if errs.Is(err, errs.KindAuth) {
			u = Guest // a disabled user's session is Guest's
			return nil
		}
		found = err == nil
		return err
	})
	if found {
		s.auth.put(sessionKey(sid), sid, u, s.Now())
	}
	return u, err
}

// sessionKey keeps sessions apart from API keys in the auth cache (an API
// key never starts with a NUL byte).
func sessionKey(sid string) string { return "\x00sid:" + sid }

// EndSession deletes a session.
func (s *Service) EndSession(ctx context.Context, sid string) error {
	s.auth.forget(sessionKey(sid))
	err := s.Update(ctx, func(t *Tx) error { return t.DeleteSession(ctx, sid) })
	s.auth.forget(sessionKey(sid)) // and again: a request may have cached it meanwhile
	return err
}
