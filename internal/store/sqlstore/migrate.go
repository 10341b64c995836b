package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"docstream/internal/doc"
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
	// creation_us: the last update log's creation as wallMicros (0: none yet).
	`CREATE TABLE IF NOT EXISTS "__StreamClock" (id INTEGER PRIMARY KEY, seq BIGINT NOT NULL, creation_us BIGINT NOT NULL)`,
	`INSERT INTO "__StreamClock" (id, seq, creation_us) VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING`,
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
	if err := db.upgradeStreamClock(ctx, conn); err != nil {
		return fmt.Errorf("upgrade the stream clock: %w", err)
	}
	for _, q := range systemDDL {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create system tables: %w", err)
		}
	}
	return nil
}

// upgradeStreamClock converts the stream clock of a database written by an
// older version, whose last creation was a datetime string in a column
// "creation", to creation_us, in one transaction. An older binary then fails
// on the clock instead of handing out creation times out of order.
func (db *DB) upgradeStreamClock(ctx context.Context, conn *sql.Conn) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	t := &Tx{tx: tx, d: db.d}
	defer t.Rollback()
	cols, err := t.columns(ctx, "__StreamClock")
	if err != nil || !cols["creation"] || cols["creation_us"] {
		return err
	}
	var last string
	err = t.queryRow(ctx, `SELECT creation FROM "__StreamClock" WHERE id = 1`).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var us int64
	if lt, err := time.Parse(doc.DatetimeLayout, last); err == nil {
		us = lt.UnixMicro() // a naive wall-clock time read as UTC: wallMicros
	}
	if _, err := t.exec(ctx, `ALTER TABLE "__StreamClock" ADD COLUMN creation_us BIGINT NOT NULL DEFAULT 0`); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `UPDATE "__StreamClock" SET creation_us = ?`, us); err != nil {
		return err
	}
	if _, err := t.exec(ctx, `ALTER TABLE "__StreamClock" DROP COLUMN creation`); err != nil {
		return err
	}
	return t.Commit()
}
