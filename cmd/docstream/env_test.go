package main

import (
	"strings"
	"testing"
	"time"
)

// TestStreamConfigFromEnv: the hidden DOCSTREAM_STREAM_* settings reach the
// stream configuration, and a bad value is refused with the variable named.
func TestStreamConfigFromEnv(t *testing.T) {
	t.Setenv("DOCSTREAM_STREAM_CATCHUP", "2s")
	t.Setenv("DOCSTREAM_STREAM_BATCH_WINDOW", "20ms")
	t.Setenv("DOCSTREAM_STREAM_PAGE_SIZE", "50")
	c, err := streamConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.CatchUp != 2*time.Second || c.BatchWindow != 20*time.Millisecond || c.PageSize != 50 {
		t.Errorf("config %+v", c)
	}
	for env, bad := range map[string]string{"DOCSTREAM_STREAM_BATCH_WINDOW": "soon", "DOCSTREAM_STREAM_PAGE_SIZE": "-1"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, bad)
			if _, err := streamConfigFromEnv(); err == nil || !strings.Contains(err.Error(), env) {
				t.Errorf("%s=%s: %v, want an error naming it", env, bad, err)
			}
		})
	}
}
