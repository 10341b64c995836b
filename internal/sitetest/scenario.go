package sitetest

import (
	"strings"
	"testing"
)

// Scenario is one API call and what must come back (PocketBase's ApiScenario).
type Scenario struct {
	Name   string
	Method string
	Path   string
	// Client sends the request; nil means the site's Administrator token client.
	Client *Client
	Body   any // see Client.Do
	// Status is the expected HTTP status (0 means 200).
	Status int
	// ExcType is the expected exc_type of an error answer ("" skips the check).
	ExcType string
	// Contains must all appear in the body; NotContains must not.
	Contains    []string
	NotContains []string
	// Check runs extra assertions on the answer.
	Check func(t *testing.T, r *Response)
}

// Run runs each scenario as a subtest, in order (scenarios may build on one another).
func Run(t *testing.T, s *Site, scenarios []Scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			t.Helper()
			RunOne(t, s, sc)
		})
	}
}

// RunOne runs one scenario and returns the answer.
func RunOne(t *testing.T, s *Site, sc Scenario) *Response {
	t.Helper()
	c := sc.Client
	if c == nil {
		c = s.Admin()
	}
	method := sc.Method
	if method == "" {
		method = "GET"
	}
	r := c.Do(t, method, sc.Path, sc.Body)
	want := sc.Status
	if want == 0 {
		want = 200
	}
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, sc.Path, r.Status, want, trim(r.Body))
	}
	if sc.ExcType != "" && r.ExcType() != sc.ExcType {
		t.Errorf("%s %s: exc_type %q, want %q: %s", method, sc.Path, r.ExcType(), sc.ExcType, trim(r.Body))
	}
	body := string(r.Body)
	for _, s := range sc.Contains {
		if !strings.Contains(body, s) {
			t.Errorf("%s %s: body lacks %q: %s", method, sc.Path, s, trim(r.Body))
		}
	}
	for _, s := range sc.NotContains {
		if strings.Contains(body, s) {
			t.Errorf("%s %s: body has %q: %s", method, sc.Path, s, trim(r.Body))
		}
	}
	if sc.Check != nil {
		sc.Check(t, r)
	}
	return r
}
