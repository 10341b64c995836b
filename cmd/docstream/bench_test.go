package main

import (
	"context"
	"strings"
	"testing"
)

// Bad bench arguments stop at once with an error that names them, before
// any site is made.
func TestBenchRejectsBadArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "name a benchmark"},
		{[]string{"nope"}, `unknown benchmark "nope"`},
		{[]string{"stream", "--write-block", "0"}, "--write-block must be at least 1, got 0"},
		{[]string{"stream", "--write-block", "-5"}, "--write-block must be at least 1, got -5"},
	} {
		err := bench(context.Background(), tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bench %q: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
