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
