package stream

// FirstLogAfter exposes firstLogAfter to the package's external tests.
var FirstLogAfter = firstLogAfter
