package sitetest_test

import (
	"net/http"
	"testing"

	"docstream/internal/sitetest"
)

func TestNewSite(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := sitetest.NewSite(t, opts)
		s.Guest().Do(t, http.MethodGet, "/", nil).MustOK(t)
		r := s.Admin().Get(t, "/api/method/frappe.auth.get_logged_user", nil).MustOK(t)
		if r.Message() != "Administrator" {
			t.Fatalf("logged user %v", r.Message())
		}
	})
}
