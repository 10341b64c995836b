package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// SQLite's automatic checkpoint copies the WAL back into the database file
// inside the commit that crosses its threshold, fsync included: a writer
// applying a page of replicated changes waited for it every few pages
// (draining a backlog ran 13 % faster with no checkpoint at all). Here a
// goroutine with a connection of its own checkpoints instead, PASSIVE (it
// never blocks writers or readers), every checkpointEvery; the automatic
// checkpoint stays on at a larger threshold as a backstop, so the WAL stays
// bounded even if this goroutine falls behind. Durability is unchanged: with
// synchronous=NORMAL the WAL is synced at checkpoints either way.
const (
	checkpointEvery    = 250 * time.Millisecond
	autoCheckpointPage = 10000 // about 40 MB of WAL
)

type checkpointer struct {
	conn   *sql.DB
	cancel context.CancelFunc
	done   chan struct{}
}

func startCheckpointer(dsn string) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{conn: conn, cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Errors (SQLITE_BUSY while another checkpoint runs) only mean
		// the next tick or the automatic checkpoint does the work.
		c.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	}
}

func (c *checkpointer) close() error {
	c.cancel()
	<-c.done
	return c.conn.Close()
}
