package sqlstore

import (
	"context"
	"fmt"
)

// System tables. Document tables (tab<DocType>) are created from metadata by
// SyncTable; these are the few tables that are not documents.
var systemDDL = []string{
	`CREATE TABLE IF NOT EXISTS "__Series" (name TEXT PRIMARY KEY, current BIGINT NOT NULL DEFAULT 0)`,
	`CREATE TABLE IF NOT EXISTS "__Auth" (doctype TEXT NOT NULL, name TEXT NOT NULL, fieldname TEXT NOT NULL, password TEXT NOT NULL, PRIMARY KEY (doctype, name, fieldname))`,
	`CREATE TABLE IF NOT EXISTS "__Sessions" (sid TEXT PRIMARY KEY, "user" TEXT NOT NULL, expires TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS "__KV" (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS "__MetaVersion" (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)`,
	`INSERT INTO "__MetaVersion" (id, version) VALUES (1, 1) ON CONFLICT (id) DO NOTHING`,
	`CREATE TABLE IF NOT EXISTS "__StreamClock" (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, creation TEXT NOT NULL)`,
	`INSERT INTO "__StreamClock" (id, seq, creation) VALUES (1, 0, '') ON CONFLICT (id) DO NOTHING`,
	`CREATE TABLE IF NOT EXISTS "__Leases" (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until TEXT NOT NULL)`,
}

func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if db.d.name == "postgres" {
		// Several processes may start at once on one database: serialize the
		// DDL. The lock is per session, so it is taken and released on one conn.
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
			return fmt.Errorf("lock for migration: %w", err)
		}
		defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(727274)`)
	}
	for _, q := range systemDDL {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create system tables: %w", err)
		}
	}
	return nil
}
