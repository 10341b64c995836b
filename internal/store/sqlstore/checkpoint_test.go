package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Committed pages reach the database file without any writer checkpointing:
// a transaction far below the automatic threshold is copied back by the
// background checkpointer.
func TestBackgroundCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	size := func() int64 {
		fi, err := os.Stat(filepath.Join(dir, "site.db"))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	tx, err := db.Begin(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	st := tx.(*Tx)
	if _, err := st.exec(ctx, `CREATE TABLE "bulk" (v TEXT)`); err != nil {
		t.Fatal(err)
	}
	row := strings.Repeat("x", 3000)
	for range 2000 { // about 2,000 pages of WAL, a fifth of the threshold
		if _, err := st.exec(ctx, `INSERT INTO "bulk" (v) VALUES (?)`, row); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for size()-before < 2000*3000 {
		if time.Now().After(deadline) {
			t.Fatalf("database file grew by %d bytes in 5 s after a 6 MB commit: nothing checkpointed it", size()-before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A writer that never pauses still gets its WAL started over, by the
// background checkpointer alone, with SQLite's automatic checkpoint out of
// reach. Without the writer's last pass every pass finds new frames and the
// WAL grows by every page written.
func TestWALStartsOverBesideABusyWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tune := ckptTuning{every: 20 * time.Millisecond, restartFrames: 200, fewFrames: 256, maxPasses: 8}
	db, err := openSQLite(ctx, dir, tune, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	write := func(q string, args ...any) {
		t.Helper()
		tx, err := db.Begin(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.(*Tx).exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	write(`CREATE TABLE "bulk" (v TEXT)`)
	// A page a row; at most 20,000 of them (80 MB of WAL), until the WAL
	// was started over three times.
	const size = 3000
	row := strings.Repeat("x", size)
	n := 0
	for ; n < 20000 && db.ckpt.startedOver.Load() < 3; n++ {
		write(`INSERT INTO "bulk" (v) VALUES (?)`, row)
	}
	fi, err := os.Stat(filepath.Join(dir, "site.db-wal"))
	if err != nil {
		t.Fatal(err)
	}
	if _, w, ok := db.WALStats(); !ok || w == 0 || w != db.ckpt.finished.Load() {
		t.Errorf("WALStats: %d writer passes (ok %v), want the %d made", w, ok, db.ckpt.finished.Load())
	}
	if got := db.ckpt.startedOver.Load(); got < 3 {
		t.Errorf("the WAL was started over %d times in %d commits without a pause (%d last passes by the writer), want 3; WAL file %d MB",
			got, n, db.ckpt.finished.Load(), fi.Size()>>20)
	}
}

// What a tick decides from what its passes report: (log, done) per pass,
// -1 for a pass that found another checkpoint running.
func TestCheckpointTick(t *testing.T) {
	tune := ckptTuning{every: time.Hour, restartFrames: 1000, fewFrames: 100, maxPasses: 4}
	for _, tc := range []struct {
		name        string
		lastDone    int      // left by the tick before
		passes      [][2]int // what each pass reports, in order
		wantPasses  int      // passes the tick made
		wantDue     bool     // the writer is asked for the last pass
		wantLast    int      // lastDone after the tick
		startedOver int64
	}{
		{"short WAL", 0, [][2]int{{500, 500}}, 1, false, 500, 0},
		{"long, converging", 0, [][2]int{{3000, 3000}, {3400, 3400}, {3450, 3450}}, 3, true, 3450, 0},
		{"long, converged at the first pass since the last tick", 3000, [][2]int{{3050, 3050}}, 1, true, 3050, 0},
		{"long and idle: the next write starts it over", 3000, [][2]int{{3000, 3000}}, 1, false, 3000, 0},
		{"a reader holds an old snapshot", 0, [][2]int{{3000, 2500}}, 1, false, 2500, 0},
		{"never converging: give up until the next tick", 0, [][2]int{{3000, 3000}, {3500, 3500}, {4000, 4000}, {4500, 4500}, {5000, 5000}}, 4, false, 4500, 0},
		{"started over since the last tick, long again", 3000, [][2]int{{1500, 1500}, {1550, 1550}}, 2, true, 1550, 1},
		{"another checkpoint running: no state changes", 3000, [][2]int{{-1, -1}}, 1, false, 3000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &checkpointer{tune: tune, lastDone: tc.lastDone}
			n := 0
			c.tick(context.Background(), func(context.Context) (int, int, error) {
				if n >= len(tc.passes) {
					t.Fatalf("pass %d, only %d scripted", n+1, len(tc.passes))
				}
				p := tc.passes[n]
				n++
				if p[0] < 0 {
					return p[0], p[1], errCheckpointBusy
				}
				return p[0], p[1], nil
			})
			if f := c.frames.Load(); tc.passes[n-1][0] >= 0 && f != int64(tc.passes[n-1][0]) {
				t.Errorf("frames %d, want the last pass's %d", f, tc.passes[n-1][0])
			}
			if n != tc.wantPasses || c.due.Load() != tc.wantDue || c.lastDone != tc.wantLast || c.startedOver.Load() != tc.startedOver {
				t.Errorf("passes %d, due %v, lastDone %d, started over %d; want %d, %v, %d, %d",
					n, c.due.Load(), c.lastDone, c.startedOver.Load(), tc.wantPasses, tc.wantDue, tc.wantLast, tc.startedOver)
			}
		})
	}
}
