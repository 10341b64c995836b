package stream

// FirstLogAfter exposes firstLogAfter to the package's external tests.
var FirstLogAfter = firstLogAfter

// ServeFromTable makes s serve every pull from the table, not the log tail.
func ServeFromTable(s *Streamer, on bool) { s.noTail.Store(on) }

// ScannedThrough is the head up to which s read the log for a Frappe
// consumer's last empty answer to cursor lastUpdate and DocTypes doctypes.
func ScannedThrough(s *Streamer, consumer, lastUpdate string, doctypes ...string) int64 {
	dts := make([]any, len(doctypes))
	for i, d := range doctypes {
		dts[i] = d
	}
	return s.scannedThrough(consumer, frappeScanKey(lastUpdate, dts))
}
