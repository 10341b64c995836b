package sitetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A schema's drop is retried on PostgreSQL's deadlock_detected only, also
// when the driver's error is wrapped.
func TestIsDeadlock(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&pgconn.PgError{Code: "40P01"}, true},
		{fmt.Errorf("drop: %w", &pgconn.PgError{Code: "40P01"}), true},
		{&pgconn.PgError{Code: "42P01"}, false},
		{errors.New("deadlock detected (SQLSTATE 40P01)"), false},
	} {
		if got := isDeadlock(tc.err); got != tc.want {
			t.Errorf("isDeadlock(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
