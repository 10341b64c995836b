package stream

import "strings"

// A Frappe consumer's only cursor is the creation of the last log it
// received. Subscribed to a DocType that changes rarely, it sends the same
// cursor pull after pull, and on SQLite, whose log has no (ref_doctype, seq)
// index (every index costs every logged change), each pull read every log
// since that cursor: after a million changes of other DocTypes, a million
// rows per pull. So the producer remembers, per Frappe consumer, the head up
// to which an empty answer read the log for that cursor and those DocTypes,
// and the next pull with the same ones starts after it. Nothing it skips can
// match: a log's seq is handed out in commit order, so no log at or below a
// head read in a transaction commits after it. Pulls with conditions are
// left alone (a withheld log is decided again at each pull).

// frappeScan is how far an empty answer read the log for one cursor.
type frappeScan struct {
	key     string // cursor and DocTypes
	through int64
}

func frappeScanKey(lastUpdate string, dts []any) string {
	var b strings.Builder
	b.WriteString(lastUpdate)
	for _, d := range dts {
		b.WriteByte(0)
		b.WriteString(d.(string))
	}
	return b.String()
}

// scannedThrough is the head an empty answer for key read up to, or 0.
func (s *Streamer) scannedThrough(consumer, key string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.frappeScans[consumer]; ok && f.key == key {
		return f.through
	}
	return 0
}

func (s *Streamer) rememberScan(consumer, key string, through int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frappeScans[consumer] = frappeScan{key, through}
}
