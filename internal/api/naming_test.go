package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"docstream/internal/sitetest"
)

var namingDocTypes = []string{
	`{"name": "Test Hash", "autoname": "hash", "fields": [{"fieldname": "x", "fieldtype": "Data"}]}`,
	`{"name": "Test Default", "fields": [{"fieldname": "x", "fieldtype": "Data"}]}`,
	`{"name": "Test Field", "autoname": "field:code", "fields": [{"fieldname": "code", "label": "Code", "fieldtype": "Data"}]}`,
	`{"name": "Test Format", "autoname": "format:FMT-{YYYY}-{x}-{####}", "fields": [{"fieldname": "x", "fieldtype": "Data"}]}`,
	`{"name": "Test AutoInc", "autoname": "autoincrement", "fields": [{"fieldname": "x", "fieldtype": "Data"}]}`,
	`{"name": "Test Prompt", "autoname": "Prompt", "fields": [{"fieldname": "x", "fieldtype": "Data"}]}`,
	`{"name": "Test Old Series", "autoname": "SER-.####", "fields": [{"fieldname": "x", "fieldtype": "Data"}]}`,
}

func TestNaming(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := newFixtureSite(t, opts)
		c := s.Admin()
		for _, def := range namingDocTypes {
			c.MustCreateDocType(t, def)
		}
		year := strconv.Itoa(time.Now().Year())
		hash := regexp.MustCompile(`^[0-9a-z]{10}$`)
		nameIs := func(want any) func(t *testing.T, r *sitetest.Response) {
			return func(t *testing.T, r *sitetest.Response) {
				t.Helper()
				if got := r.Doc()["name"]; got != want {
					t.Errorf("name %#v, want %#v", got, want)
				}
			}
		}
		nameMatches := func(re *regexp.Regexp) func(t *testing.T, r *sitetest.Response) {
			return func(t *testing.T, r *sitetest.Response) {
				t.Helper()
				if got, _ := r.Doc()["name"].(string); !re.MatchString(got) {
					t.Errorf("name %#v does not match %s", r.Doc()["name"], re)
				}
			}
		}
		post := func(doctype string, body map[string]any) (string, string, any) {
			return "POST", sitetest.Path(doctype), body
		}
		type sc = sitetest.Scenario
		var scenarios []sc
		add := func(name string, method, path string, body any, status int, exc string, check func(*testing.T, *sitetest.Response)) {
			scenarios = append(scenarios, sc{Name: name, Method: method, Path: path, Body: body, Status: status, ExcType: exc, Check: check})
		}
		m, p, b := post("Test Hash", map[string]any{"name": "ignored", "x": "1"})
		add("hash ignores the client name", m, p, b, 0, "", nameMatches(hash))
		m, p, b = post("Test Default", map[string]any{"x": "1"})
		add("no autoname is hash", m, p, b, 0, "", nameMatches(hash))
		m, p, b = post("Test Field", map[string]any{"code": "  C-1  ", "name": "ignored"})
		add("field: takes the trimmed value", m, p, b, 0, "", nameIs("C-1"))
		m, p, b = post("Test Field", map[string]any{"code": "C-1"})
		add("field: duplicate", m, p, b, 409, "DuplicateEntryError", nil)
		m, p, b = post("Test Field", map[string]any{"code": ""})
		add("field: empty", m, p, b, 417, "MandatoryError", nil)
		m, p, b = post("Test Format", map[string]any{"x": "AB"})
		add("format: first", m, p, b, 0, "", nameIs("FMT-"+year+"-AB-0001"))
		m, p, b = post("Test Format", map[string]any{"x": "AB"})
		add("format: second", m, p, b, 0, "", nameIs("FMT-"+year+"-AB-0002"))
		m, p, b = post("Test AutoInc", map[string]any{"x": "1", "name": "ignored"})
		add("autoincrement first", m, p, b, 0, "", nameIs(float64(1)))
		m, p, b = post("Test AutoInc", map[string]any{"x": "2"})
		add("autoincrement second", m, p, b, 0, "", nameIs(float64(2)))
		add("autoincrement name is an integer on GET", "GET", sitetest.Path("Test AutoInc", "2"), nil, 0, "", nameIs(float64(2)))
		add("autoincrement list", "GET", sitetest.Path("Test AutoInc")+"?order_by=name%20asc", nil, 0, "", func(t *testing.T, r *sitetest.Response) {
			if rows := r.Rows(); len(rows) != 2 || rows[0]["name"] != float64(1) {
				t.Errorf("rows %v", rows)
			}
		})
		m, p, b = post("Test Old Series", map[string]any{"x": "1"})
		add("old-style series", m, p, b, 0, "", nameIs("SER-0001"))
		m, p, b = post("Test Order", order(0))
		add("naming_series default option", m, p, b, 0, "", nameIs("TO-"+year+"-0001"))
		body := order(0)
		body["naming_series"] = "TX-.####"
		m, p, b = post("Test Order", body)
		add("naming_series chosen", m, p, b, 0, "", nameIs("TX-0001"))
		m, p, b = post("Test Prompt", map[string]any{"x": "1"})
		add("Prompt without a name", m, p, b, 417, "ValidationError", nil)
		m, p, b = post("Test Prompt", map[string]any{"__newname": "From Newname"})
		add("Prompt __newname", m, p, b, 0, "", nameIs("From Newname"))
		m, p, b = post("Test Prompt", map[string]any{"name": "a<b>"})
		add("Prompt name with <>", m, p, b, 409, "NameError", nil)
		m, p, b = post("Test Prompt", map[string]any{"name": "From Newname"})
		add("Prompt duplicate", m, p, b, 409, "DuplicateEntryError", nil)
		sitetest.Run(t, s, scenarios)

		// Names with `/`, spaces and `://` round-trip through
		// /api/resource/<doctype>/<name>, escaped (frappe-js-sdk) or not (FrappeClient).
		for _, name := range []string{"a/b c", "http://site.example:8000", "x//y/", "Ünïcode 100%", "trailing"} {
			t.Run("name "+name, func(t *testing.T) {
				d := c.MustInsert(t, "Test Prompt", map[string]any{"name": name, "x": "v"})
				if d["name"] != name {
					t.Fatalf("name %q, want %q", d["name"], name)
				}
				paths := []string{sitetest.Path("Test Prompt", name), sitetest.Path("Test Prompt", name) + "/"}
				if !regexp.MustCompile(`[%? ]|/$`).MatchString(name) {
					paths = append(paths, "/api/resource/Test%20Prompt/"+name) // FrappeClient concatenates
				}
				for _, p := range paths {
					r := c.Get(t, p, nil)
					if r.Status != http.StatusOK || r.Doc()["name"] != name {
						t.Errorf("GET %s: %s", p, r)
					}
				}
				r := c.Do(t, http.MethodPut, sitetest.Path("Test Prompt", name), map[string]any{"x": "changed"}).MustOK(t)
				if r.Doc()["x"] != "changed" || r.Doc()["name"] != name {
					t.Errorf("PUT: %s", r)
				}
				c.Do(t, http.MethodDelete, sitetest.Path("Test Prompt", name), nil).MustStatus(t, http.StatusAccepted)
				c.Get(t, sitetest.Path("Test Prompt", name), nil).MustStatus(t, http.StatusNotFound)
			})
		}
	})
}

// TestNaming_ConcurrentSeries: concurrent inserts never get the same series
// number, and no number is skipped.
func TestNaming_ConcurrentSeries(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := newFixtureSite(t, opts)
		const workers, each = 8, 25
		var mu sync.Mutex
		var names []string
		var wg sync.WaitGroup
		for w := range workers {
			c := s.Admin()
			wg.Go(func() {
				for i := range each {
					body := order(1)
					body["naming_series"] = "TX-.####"
					r := c.Do(t, http.MethodPost, sitetest.Path("Test Order"), body)
					if r.Status != http.StatusOK {
						t.Errorf("worker %d insert %d: %s", w, i, r)
						return
					}
					mu.Lock()
					names = append(names, r.Doc()["name"].(string))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.Sort(names)
		var want []string
		for i := 1; i <= workers*each; i++ {
			want = append(want, fmt.Sprintf("TX-%04d", i))
		}
		if !slices.Equal(names, want) {
			dups := map[string]int{}
			for _, n := range names {
				dups[n]++
			}
			for n, k := range dups {
				if k > 1 {
					t.Errorf("name %s handed out %d times", n, k)
				}
			}
			t.Fatalf("got %d names %v…, want TX-0001…TX-%04d", len(names), names[:min(5, len(names))], workers*each)
		}
		if n := s.Admin().MustCount(t, "Test Order", nil); n != workers*each {
			t.Errorf("%d orders stored, want %d", n, workers*each)
		}
	})
}
