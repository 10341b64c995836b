package sqlstore

// SetTailBounds makes db's log tail keep at most logs logs and about bytes
// bytes of them, so that tests see it drop old logs.
func SetTailBounds(db *DB, logs, bytes int) {
	db.tail.mu.Lock()
	defer db.tail.mu.Unlock()
	db.tail.maxLogs, db.tail.maxBytes = logs, bytes
}
