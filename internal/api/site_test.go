package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"docstream/internal/sitetest"
)

// TestSite_Reopen: a second start on the same data reuses the site: DocTypes,
// documents, users, passwords, API keys and series counters survive.
func TestSite_Reopen(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := newFixtureSite(t, opts)
		s.Guest().Do(t, http.MethodGet, "/", nil).MustOK(t)
		first := s.Admin().MustInsert(t, "Test Order", order(2))
		key, sec := s.APIKey, s.APISecret

		s2 := s.Restart(t)
		old := s2.As("token "+key+":"+sec).Get(t, sitetest.Path("Test Order", first["name"].(string)), nil).MustOK(t).Doc()
		if diff := cmp.Diff(first, old); diff != "" {
			t.Errorf("document after restart (-before +after):\n%s", diff)
		}
		second := s2.Admin().MustInsert(t, "Test Order", order(1))
		if a, b := first["name"].(string), second["name"].(string); a[len(a)-4:] != "0001" || b[len(b)-4:] != "0002" {
			t.Errorf("series after restart: %s then %s, want ...0001 then ...0002", a, b)
		}
		c := s2.Login(t, "Administrator", sitetest.AdminPassword)
		c.Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustOK(t)
		if n := s2.Admin().MustCount(t, "Role", map[string]any{"name": "Administrator"}); n != 1 {
			t.Errorf("%d Administrator roles after restart, want 1", n)
		}
	})
}

// TestSite_URL: --url sets the canonical URL, independent of the listen address.
func TestSite_URL(t *testing.T) {
	t.Parallel()
	s := sitetest.NewSite(t, sitetest.Options{URL: "http://site.example:8000/"})
	if s.Site.URL != "http://site.example:8000" {
		t.Errorf("site URL %q, want http://site.example:8000", s.Site.URL)
	}
	s.Guest().Do(t, http.MethodGet, "/", nil).MustOK(t)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	s := sitetest.NewSite(t, sitetest.Options{})
	guest := s.Guest()
	s.Admin().MustInsert(t, "User", map[string]any{"email": "off@example.com", "first_name": "Off", "enabled": 0, "new_password": "pw-off"})
	offSecret, offKey := s.MustGenerateKeys(t, "off@example.com")
	sitetest.Run(t, s, []sitetest.Scenario{
		{Name: "JSON", Method: "POST", Path: "/api/method/login", Client: guest,
			Body: map[string]any{"usr": "Administrator", "pwd": sitetest.AdminPassword},
			Check: func(t *testing.T, r *sitetest.Response) {
				want := map[string]any{"message": "Logged In", "home_page": "/app", "full_name": "Administrator"}
				if diff := cmp.Diff(want, r.JSON); diff != "" {
					t.Errorf("login body (-want +got):\n%s", diff)
				}
				sid := cookie(r, "sid")
				if sid == nil || sid.Value == "" || !sid.HttpOnly || sid.SameSite != http.SameSiteLaxMode {
					t.Errorf("sid cookie %+v, want HttpOnly SameSite=Lax", sid)
				}
			}},
		{Name: "form", Method: "POST", Path: "/api/method/login", Client: guest,
			Body:     sitetest.Form{"usr": {"Administrator"}, "pwd": {sitetest.AdminPassword}},
			Contains: []string{`"message":"Logged In"`}},
		{Name: "cmd in query of POST /", Method: "POST", Path: "/?cmd=login&usr=Administrator&pwd=" + sitetest.AdminPassword, Client: guest,
			Contains: []string{`"message":"Logged In"`}},
		{Name: "wrong password", Method: "POST", Path: "/api/method/login", Client: guest,
			Body:   map[string]any{"usr": "Administrator", "pwd": "nope"},
			Status: 401, ExcType: "AuthenticationError", Contains: []string{`"message":"Invalid login credentials"`}},
		{Name: "unknown user", Method: "POST", Path: "/api/method/login", Client: guest,
			Body:   map[string]any{"usr": "nobody@example.com", "pwd": "nope"},
			Status: 401, ExcType: "AuthenticationError", Contains: []string{"Invalid login credentials"}},
		{Name: "disabled user", Method: "POST", Path: "/api/method/login", Client: guest,
			Body:   map[string]any{"usr": "off@example.com", "pwd": "pw-off"},
			Status: 401, ExcType: "AuthenticationError"},
		{Name: "disabled user's API key", Path: "/api/method/frappe.auth.get_logged_user", Client: s.As("token " + offKey + ":" + offSecret),
			Status: 401, ExcType: "AuthenticationError"},
		{Name: "missing password", Method: "POST", Path: "/api/method/login", Client: guest,
			Body:   map[string]any{"usr": "Administrator"},
			Status: 401, ExcType: "AuthenticationError", Contains: []string{"Incomplete login details"}},
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	s := sitetest.NewSite(t, sitetest.Options{})
	c := s.Login(t, "Administrator", sitetest.AdminPassword)
	r := c.Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustOK(t)
	if r.Message() != "Administrator" {
		t.Fatalf("logged user %v", r.Message())
	}
	var sid string
	for _, ck := range c.HTTP.Jar.Cookies(mustURL(t, s.URL)) {
		if ck.Name == "sid" {
			sid = ck.Value
		}
	}
	c.Do(t, http.MethodPost, "/api/method/logout", map[string]any{}).MustOK(t)
	c.Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustStatus(t, http.StatusForbidden)
	// The session is gone on the server, not only from the cookie jar.
	replay := s.Guest()
	replay.Header = http.Header{"Cookie": {"sid=" + sid}}
	r = replay.Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustStatus(t, http.StatusForbidden)
	if r.ExcType() != "PermissionError" {
		t.Errorf("exc_type %q, want PermissionError", r.ExcType())
	}
}

// TestSessionOfChangedUser: a session is trusted for a few seconds without
// reading it again, but not after its user is disabled or loses a role in
// this process: the next request sees the change.
func TestSessionOfChangedUser(t *testing.T) {
	t.Parallel()
	s := sitetest.NewSite(t, sitetest.Options{})
	s.Admin().MustInsert(t, "User", map[string]any{"email": "clerk@example.com", "first_name": "Clerk", "new_password": "pw-clerk-1",
		"roles": []any{map[string]any{"role": "System Manager"}}})
	c := s.Login(t, "clerk@example.com", "pw-clerk-1")
	c.Get(t, sitetest.Path("User"), nil).MustOK(t) // the session is now cached with System Manager
	s.Admin().Do(t, http.MethodPut, sitetest.Path("User", "clerk@example.com"), map[string]any{"roles": []any{}}).MustOK(t)
	c.Get(t, sitetest.Path("User"), nil).MustStatus(t, http.StatusForbidden)
	if r := c.Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustOK(t); r.Message() != "clerk@example.com" {
		t.Fatalf("logged user %v", r.Message())
	}
	s.Admin().Do(t, http.MethodPut, sitetest.Path("User", "clerk@example.com"), map[string]any{"enabled": 0}).MustOK(t)
	c.Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustStatus(t, http.StatusForbidden)
}

// TestLogin_RateLimit: a burst of failed logins for one user ends in 429,
// and then even the right password is refused until the window passes.
func TestLogin_RateLimit(t *testing.T) {
	t.Parallel()
	s := sitetest.NewSite(t, sitetest.Options{})
	g := s.Guest()
	var statuses []int
	for range 12 {
		r := g.Do(t, http.MethodPost, "/api/method/login", map[string]any{"usr": "Administrator", "pwd": "wrong"})
		statuses = append(statuses, r.Status)
		if r.Status == http.StatusTooManyRequests && r.ExcType() != "TooManyRequestsError" {
			t.Errorf("429 with exc_type %q, want TooManyRequestsError", r.ExcType())
		}
	}
	for i, st := range statuses[:10] {
		if st != http.StatusUnauthorized {
			t.Errorf("attempt %d: status %d, want 401 (statuses %v)", i+1, st, statuses)
		}
	}
	if statuses[11] != http.StatusTooManyRequests {
		t.Errorf("attempt 12: status %d, want 429 (statuses %v)", statuses[11], statuses)
	}
	r := g.Do(t, http.MethodPost, "/api/method/login", map[string]any{"usr": "Administrator", "pwd": sitetest.AdminPassword})
	if r.Status != http.StatusTooManyRequests {
		t.Errorf("right password during lockout: %s, want 429", r)
	}
}

// TestAuth_EveryEndpointKind: session cookie, token and Basic credentials
// work on resources, methods and root cmd= calls; a wrong key is 401 and
// Guest is 403 everywhere.
func TestAuth_EveryEndpointKind(t *testing.T) {
	t.Parallel()
	s := newFixtureSite(t, sitetest.Options{})
	session := s.Login(t, "Administrator", sitetest.AdminPassword)
	idents := []struct {
		name   string
		client *sitetest.Client
		status int // 0: success
		exc    string
	}{
		{name: "session", client: session},
		{name: "token", client: s.As(s.TokenAuth())},
		{name: "basic", client: s.As(s.BasicAuth())},
		{name: "token scheme any case", client: s.As("Token " + s.APIKey + ":" + s.APISecret)},
		{name: "wrong secret", client: s.As("token " + s.APIKey + ":0123456789abcde"), status: 401, exc: "AuthenticationError"},
		{name: "wrong key", client: s.As("token nosuchkey:" + s.APISecret), status: 401, exc: "AuthenticationError"},
		{name: "wrong basic", client: s.As(sitetest.BasicAuth(s.APIKey, "bad")), status: 401, exc: "AuthenticationError"},
		{name: "malformed basic", client: s.As("Basic !!!notbase64"), status: 401, exc: "AuthenticationError"},
		{name: "token without secret", client: s.As("token " + s.APIKey), status: 401, exc: "AuthenticationError"},
		{name: "unknown scheme", client: s.As("Bearer abc"), status: 401, exc: "AuthenticationError"},
		{name: "guest", client: s.Guest(), status: 403, exc: "PermissionError"},
		{name: "three-part header is guest", client: s.As("token a b"), status: 403, exc: "PermissionError"},
	}
	for _, id := range idents {
		t.Run(id.name, func(t *testing.T) {
			name := "Auth " + strings.ReplaceAll(id.name, " ", "-")
			if id.status != 0 {
				name = "ACME" // refused before the document is even looked up
			}
			eps := []struct {
				name, method, path string
				body               any
				ok                 int
			}{
				{"list", "GET", sitetest.Path("Test Customer"), nil, 200},
				{"get", "GET", sitetest.Path("Test Customer", "ACME"), nil, 200},
				{"insert", "POST", sitetest.Path("Test Customer"), map[string]any{"customer_name": name}, 200},
				{"update", "PUT", sitetest.Path("Test Customer", name), map[string]any{"tier": "Silver"}, 200},
				{"delete", "DELETE", sitetest.Path("Test Customer", name), nil, 202},
				{"method GET", "GET", "/api/method/frappe.auth.get_logged_user", nil, 200},
				{"method POST", "POST", "/api/method/frappe.client.get_count", map[string]any{"doctype": "Test Customer"}, 200},
				{"root cmd GET", "GET", "/?cmd=frappe.auth.get_logged_user", nil, 200},
				{"root cmd POST form", "POST", "/", sitetest.Form{"cmd": {"frappe.client.get_value"}, "doctype": {"Test Customer"}, "filters": {"ACME"}, "fieldname": {"tier"}}, 200},
			}
			for _, ep := range eps {
				r := id.client.Do(t, ep.method, ep.path, ep.body)
				want := ep.ok
				if id.status != 0 {
					want = id.status
				}
				if r.Status != want {
					t.Errorf("%s %s %s: status %d, want %d: %s", ep.name, ep.method, ep.path, r.Status, want, r)
					continue
				}
				if id.exc != "" && r.ExcType() != id.exc {
					t.Errorf("%s: exc_type %q, want %q", ep.name, r.ExcType(), id.exc)
				}
				if id.status == 0 && ep.name == "method GET" && r.Message() != "Administrator" {
					t.Errorf("logged user %v, want Administrator", r.Message())
				}
			}
		})
	}
	// GET / is the site's online check: 200 for everyone, even with bad credentials absent.
	s.Guest().Do(t, http.MethodGet, "/", nil).MustOK(t)
}

func TestGenerateKeys(t *testing.T) {
	t.Parallel()
	s := newFixtureSite(t, sitetest.Options{})
	reader := newUser(t, s, "reader@example.com", "Test Reader")
	s.Admin().MustInsert(t, "User", map[string]any{"email": "keys@example.com", "first_name": "Keys", "roles": []any{map[string]any{"role": "System Manager"}}})
	path := "/api/method/frappe.core.doctype.user.user.generate_keys"
	hex15 := regexp.MustCompile(`^[0-9a-f]{15}$`)
	var secret string
	sitetest.Run(t, s, []sitetest.Scenario{
		{Name: "System Manager via POST", Method: "POST", Path: path, Body: map[string]any{"user": "keys@example.com"},
			Check: func(t *testing.T, r *sitetest.Response) {
				m, _ := r.Message().(map[string]any)
				secret, _ = m["api_secret"].(string)
				if !hex15.MatchString(secret) || len(m) != 1 {
					t.Errorf("message %v, want {api_secret: 15 hex chars}", r.Message())
				}
			}},
		{Name: "key set and secret masked", Path: sitetest.Path("User", "keys@example.com"),
			Check: func(t *testing.T, r *sitetest.Response) {
				d := r.Doc()
				if !hex15.MatchString(d["api_key"].(string)) {
					t.Errorf("api_key %v", d["api_key"])
				}
				if d["api_secret"] != strings.Repeat("*", 15) {
					t.Errorf("api_secret %v, want a 15-star mask", d["api_secret"])
				}
				if strings.Contains(string(r.Body), secret) {
					t.Errorf("the secret appears in the User document: %s", r.Body)
				}
			}},
		{Name: "form body works too", Method: "POST", Path: path, Body: sitetest.Form{"user": {"keys@example.com"}}},
		{Name: "GET refused", Method: "GET", Path: path + "?user=keys@example.com", Status: 403, ExcType: "PermissionError"},
		{Name: "not a System Manager", Method: "POST", Path: path, Client: reader, Body: map[string]any{"user": "reader@example.com"},
			Status: 403, ExcType: "PermissionError"},
		{Name: "guest", Method: "POST", Path: path, Client: s.Guest(), Body: map[string]any{"user": "keys@example.com"},
			Status: 403, ExcType: "PermissionError"},
		{Name: "unknown user", Method: "POST", Path: path, Body: map[string]any{"user": "nobody@example.com"},
			Status: 404, ExcType: "DoesNotExistError"},
	})
	// The newest key pair authenticates; generating again replaced the secret
	// but kept the key.
	d := s.Admin().Get(t, sitetest.Path("User", "keys@example.com"), nil).MustOK(t).Doc()
	key := d["api_key"].(string)
	s.As("token "+key+":"+secret).Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustStatus(t, 401)
	sec2, key2 := s.MustGenerateKeys(t, "keys@example.com")
	if key2 != key {
		t.Errorf("api_key changed from %s to %s; generate_keys must keep an existing key", key, key2)
	}
	r := s.As("token "+key+":"+sec2).Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustOK(t)
	if r.Message() != "keys@example.com" {
		t.Errorf("logged user %v", r.Message())
	}
}

func cookie(r *sitetest.Response, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestSite_TwoProcessesOnePostgres: several servers on one PostgreSQL
// database work as one site: metadata changes, sessions, API keys and series
// counters live in the database, not in one process.
func TestSite_TwoProcessesOnePostgres(t *testing.T) {
	t.Parallel()
	a := sitetest.NewSite(t, sitetest.Options{Store: sitetest.Postgres})
	b := a.Twin(t)
	ca, cb := a.Admin(), b.Admin()
	ca.MustCreateDocType(t, `{"name": "Test Shared", "autoname": "SH-.####", "fields": [{"fieldname": "x", "fieldtype": "Data"}],
		"permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]}`)
	// The DocType made through one server is usable through the other.
	d := cb.MustInsert(t, "Test Shared", map[string]any{"x": "from b"})
	if d["name"] != "SH-0001" {
		t.Errorf("first name %v", d["name"])
	}
	// A Custom Field added through b is known to a.
	cb.MustInsert(t, "Custom Field", map[string]any{"dt": "Test Shared", "fieldname": "extra", "fieldtype": "Data"})
	if got := ca.MustInsert(t, "Test Shared", map[string]any{"extra": "seen by a"}); got["extra"] != "seen by a" {
		t.Errorf("custom field through the other server: %v", got)
	}
	// A session made by one server is valid on the other.
	sess := a.Login(t, "Administrator", sitetest.AdminPassword)
	sess.Base = b.URL
	if r := sess.Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustOK(t); r.Message() != "Administrator" {
		t.Errorf("session on the other server: %v", r.Message())
	}
	// Inserts through both servers at once never share a series number.
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 6 {
		c := []*sitetest.Client{ca, cb}[w%2]
		wg.Go(func() {
			for range 15 {
				r := c.Do(t, http.MethodPost, sitetest.Path("Test Shared"), map[string]any{"x": "c"})
				if r.Status != http.StatusOK {
					t.Errorf("insert: %s", r)
					return
				}
				name := r.Doc()["name"].(string)
				mu.Lock()
				if seen[name] {
					t.Errorf("name %s handed out twice", name)
				}
				seen[name] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if n := cb.MustCount(t, "Test Shared", nil); n != 2+6*15 {
		t.Errorf("%d documents, want %d", n, 2+6*15)
	}
}

// A changed API secret stops the old one at once on this process, though
// verified keys are cached.
func TestAPIKeyCacheForgetsOnUserChange(t *testing.T) {
	t.Parallel()
	s := sitetest.NewSite(t, sitetest.Options{})
	s.As(s.TokenAuth()).Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustOK(t)
	old := s.TokenAuth()
	s.APISecret, s.APIKey = s.MustGenerateKeys(t, "Administrator")
	if r := s.As(old).Get(t, "/api/method/frappe.auth.get_logged_user", nil); r.Status != 401 {
		t.Fatalf("old secret after regeneration: %d, want 401", r.Status)
	}
	s.As(s.TokenAuth()).Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustOK(t)
}
