package stream

// FirstLogAfter exposes firstLogAfter to the package's external tests.
var FirstLogAfter = firstLogAfter

// ServeFromTable makes s serve every pull from the table, not the log tail.
func ServeFromTable(s *Streamer, on bool) { s.noTail = on }
