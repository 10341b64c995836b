package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// stmtCache keeps prepared statements per pool. SQLite spends a quarter of a
// small query's time parsing SQL (profiled on the pull path), and the driver
// does not cache; pgx caches on its own, so PostgreSQL does not use this.
// Statements whose text varies with the data (IN lists of different
// lengths) would grow the cache without bound, so it is capped.
type stmtCache struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
}

const maxCachedStmts = 512

func (db *DB) stmtCache(pool *sql.DB) *stmtCache {
	db.cacheMu.Lock()
	defer db.cacheMu.Unlock()
	if db.caches == nil {
		db.caches = map[*sql.DB]*stmtCache{}
	}
	c := db.caches[pool]
	if c == nil {
		c = &stmtCache{pool: pool, m: map[string]*sql.Stmt{}}
		db.caches[pool] = c
	}
	return c
}

// stmt returns q prepared for this transaction, or nil to run it unprepared
// (DDL, savepoints, a full cache, or a failed prepare).
func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if t.stmts == nil || !cacheable(q) {
		return nil
	}
	c := t.stmts
	c.mu.Lock()
	st, ok := c.m[q]
	if !ok && len(c.m) < maxCachedStmts {
		var err error
		if st, err = c.pool.PrepareContext(ctx, q); err != nil {
			c.mu.Unlock()
			return nil
		}
		c.m[q] = st
	}
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	return t.tx.StmtContext(ctx, st)
}

func cacheable(q string) bool {
	q = strings.TrimLeft(q, " \n\t")
	for _, p := range []string{"SELECT", "INSERT", "UPDATE", "DELETE"} {
		if strings.HasPrefix(q, p) {
			return true
		}
	}
	return false
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}
