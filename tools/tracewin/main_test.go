package main

import (
	"bytes"
	"context"
	"fmt"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
	"time"
)

// busy runs on the CPU for d, from a goroutine of its own.
func busy(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}

// A goroutine started inside a region's window is counted there, under the
// function it started in, for about the time it ran; a window without it
// shows none of it.
func TestReportSumsGoroutinesInsideWindows(t *testing.T) {
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Skipf("tracing is not available: %v", err)
	}
	ctx := context.Background()
	region := trace.StartRegion(ctx, "with worker")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		busy(30 * time.Millisecond)
	}()
	wg.Wait()
	region.End()
	region = trace.StartRegion(ctx, "without worker")
	time.Sleep(10 * time.Millisecond)
	region.End()
	trace.Stop()

	wins, spans, names, err := read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	report(&out, wins, spans, names)
	got := out.String()
	with, without, ok := strings.Cut(got, "without worker:")
	if !ok || !strings.Contains(with, "with worker:") {
		t.Fatalf("report lacks a region:\n%s", got)
	}
	if !strings.Contains(with, "TestReportSumsGoroutinesInsideWindows.func1") {
		t.Errorf("the worker goroutine is not counted in its window:\n%s", got)
	}
	if strings.Contains(without, "TestReportSumsGoroutinesInsideWindows.func1") {
		t.Errorf("the worker goroutine is counted in a window it did not run in:\n%s", got)
	}
	var ms float64
	for _, line := range strings.Split(with, "\n") {
		if strings.Contains(line, "TestReportSumsGoroutinesInsideWindows.func1") && !strings.Contains(line, "system calls") {
			if _, err := fmtSscan(line, &ms); err != nil {
				t.Fatalf("cannot read %q: %v", line, err)
			}
		}
	}
	if ms < 20 || ms > 200 {
		t.Errorf("the worker ran %.1f ms in its window, want about 30:\n%s", ms, got)
	}
}

func fmtSscan(line string, v *float64) (int, error) { return fmt.Sscan(strings.TrimSpace(line), v) }
