package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
	"unicode/utf8"

	"docstream/internal/doc"
)

// NextSeries hands out the next number of a naming series. On PostgreSQL the
// upsert takes a row lock until commit, so concurrent inserts never get the
// same number; on SQLite the single writer serializes them.
func (t *Tx) NextSeries(ctx context.Context, key string) (int64, error) {
	var n int64
	err := t.queryRow(ctx, `INSERT INTO "__Series" (name, current) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET current = "__Series".current + 1 RETURNING current`, key).Scan(&n)
	return n, err
}

// RevertSeries decrements a series if n is still its last number (Frappe's
// revert_series_if_last on delete).
func (t *Tx) RevertSeries(ctx context.Context, key string, n int64) error {
	_, err := t.exec(ctx, `UPDATE "__Series" SET current = current - 1 WHERE name = ? AND current = ?`, key, n)
	return err
}

// NextStreamSeq takes the next update log sequence number and a creation time
// strictly later than the previous one, in one statement (SQLite reads them
// from the newest log instead: streamclock.go). The UPDATE locks
// the single clock row until this transaction ends: a transaction that takes
// a number commits before the next one can take its own, so numbers become
// visible in order and a reader's `seq > cursor` never skips a late commit.
// The clock keeps creation as wall-clock microseconds (see wallMicros), so
// the database computes max(last + 1µs, now) on the locked row.
func (t *Tx) NextStreamSeq(ctx context.Context, now time.Time) (int64, time.Time, error) {
	now = now.Truncate(time.Microsecond)
	want := wallMicros(now)
	if t.d.name == "sqlite" { // see streamclock.go and clockcache.go
		last, us, ok, err := t.cachedClock(func() (int64, int64, bool, error) { return t.sqliteClock(ctx) })
		if err != nil {
			return 0, time.Time{}, err
		}
		if ok {
			seq, at := last+1, max(us+1, want)
			t.tookClock(seq, at)
			return seq, clockTime(at, now), nil
		}
	}
	// Declared here, not above: Scan takes their addresses, which moved
	// them to the heap on SQLite's path too, an allocation every log.
	var seq, at int64
	err := t.queryRow(ctx, `UPDATE "__StreamClock" SET seq = seq + 1, creation_us = `+t.d.greatest+`(creation_us + 1, ?)
		WHERE id = 1 RETURNING seq, creation_us`, want).Scan(&seq, &at)
	if err != nil {
		return 0, time.Time{}, err
	}
	return seq, clockTime(at, now), nil
}

// clockTime is creation at (wallMicros) as a time: now itself when the clock
// gave now, else the later moment in now's location.
func clockTime(at int64, now time.Time) time.Time {
	if at == wallMicros(now) {
		return now
	}
	return fromWallMicros(at, now.Location())
}

// wallMicros is t's wall clock in loc-independent microseconds: what
// doc.FormatDatetime shows, read as UTC. Update log creation strings are
// naive wall-clock times, so this is the order they sort in.
func wallMicros(t time.Time) int64 {
	_, off := t.Zone()
	return t.UnixMicro() + int64(off)*1e6
}

// fromWallMicros is the time in loc whose wall clock is us (wallMicros's
// inverse).
func fromWallMicros(us int64, loc *time.Location) time.Time {
	u := time.UnixMicro(us).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond(), loc)
}

// StreamHead is the last sequence number handed out.
func (t *Tx) StreamHead(ctx context.Context) (int64, error) {
	if t.d.name == "sqlite" {
		if seq, _, ok, err := t.sqliteClock(ctx); err != nil || ok {
			return seq, err
		}
	}
	var seq int64
	err := t.queryRow(ctx, `SELECT seq FROM "__StreamClock" WHERE id = 1`).Scan(&seq)
	return seq, err
}

// MetaVersion is bumped whenever a DocType or Custom Field changes, so every
// process sharing the database knows when to reload its metadata cache.
func (t *Tx) MetaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := t.queryRow(ctx, `SELECT version FROM "__MetaVersion" WHERE id = 1`).Scan(&v)
	return v, err
}

// BumpMetaVersion invalidates every process's metadata cache.
func (t *Tx) BumpMetaVersion(ctx context.Context) error {
	_, err := t.exec(ctx, `UPDATE "__MetaVersion" SET version = version + 1 WHERE id = 1`)
	return err
}

// GetSecret reads an encrypted Password field value.
func (t *Tx) GetSecret(ctx context.Context, doctype, name, field string) (string, bool, error) {
	var s string
	err := t.queryRow(ctx, `SELECT password FROM "__Auth" WHERE doctype = ? AND name = ? AND fieldname = ?`, doctype, name, field).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return s, err == nil, err
}

// SetSecret stores an encrypted Password field value.
func (t *Tx) SetSecret(ctx context.Context, doctype, name, field, ciphertext string) error {
	_, err := t.exec(ctx, `INSERT INTO "__Auth" (doctype, name, fieldname, password) VALUES (?, ?, ?, ?)
		ON CONFLICT (doctype, name, fieldname) DO UPDATE SET password = excluded.password`, doctype, name, field, ciphertext)
	return err
}

// DeleteSecrets removes the stored passwords of a deleted document.
func (t *Tx) DeleteSecrets(ctx context.Context, doctype, name string) error {
	_, err := t.exec(ctx, `DELETE FROM "__Auth" WHERE doctype = ? AND name = ?`, doctype, name)
	return err
}

// CreateSession stores a login session.
func (t *Tx) CreateSession(ctx context.Context, sid, user string, expires time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO "__Sessions" (sid, "user", expires) VALUES (?, ?, ?)`, sid, user, doc.FormatDatetime(expires.UTC()))
	return err
}

// SessionUser returns the user of a live session.
func (t *Tx) SessionUser(ctx context.Context, sid string, now time.Time) (string, bool, error) {
	var user string
	err := t.queryRow(ctx, `SELECT "user" FROM "__Sessions" WHERE sid = ? AND expires > ?`, sid, doc.FormatDatetime(now.UTC())).Scan(&user)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return user, err == nil, err
}

// DeleteSession ends a session.
func (t *Tx) DeleteSession(ctx context.Context, sid string) error {
	_, err := t.exec(ctx, `DELETE FROM "__Sessions" WHERE sid = ?`, sid)
	return err
}

// GetKV reads a site setting.
func (t *Tx) GetKV(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := t.queryRow(ctx, `SELECT value FROM "__KV" WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return v, err == nil, err
}

// SetKV writes a site setting.
func (t *Tx) SetKV(ctx context.Context, key, value string) error {
	_, err := t.exec(ctx, `INSERT INTO "__KV" (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// DeleteKVPrefix deletes the settings whose key starts with prefix. Both
// databases count substr in characters, hence the rune count. It reads the
// whole table: streaming calls it once per finished backfill.
func (t *Tx) DeleteKVPrefix(ctx context.Context, prefix string) error {
	_, err := t.exec(ctx, `DELETE FROM "__KV" WHERE substr(key, 1, CAST(? AS INTEGER)) = ?`, utf8.RuneCountInString(prefix), prefix)
	return err
}

// TryLease takes the named lease if it is free, expired or already owner's.
func (t *Tx) TryLease(ctx context.Context, name, owner string, now, until time.Time) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO "__Leases" (name, owner, until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE "__Leases".owner = excluded.owner OR "__Leases".until < ?`,
		name, owner, doc.FormatDatetime(until.UTC()), doc.FormatDatetime(now.UTC()))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
