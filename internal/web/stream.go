package web

import (
	"context"
	"time"

	"docstream/internal/perm"
)

// StreamView is what the desk needs from Event Streaming: a live overview for
// the dashboard, and the Resync actions of the Event Sync Log. Package stream
// implements it; New accepts nil when streaming is not enabled on the site.
type StreamView interface {
	// Overview reports every Event Producer (this site as consumer) and every
	// Event Consumer (this site as producer). It is called on every dashboard
	// refresh (every few seconds per open browser tab), so it must be cheap.
	Overview(ctx context.Context) (Overview, error)
	// Resync retries the failed event recorded in the Event Sync Log named
	// syncLog, as user u, and returns the log's new status ("Synced",
	// "Failed" or "Queued"). An *errs.Error is shown to the user as is:
	// KindPermission when u may not resync, KindNotFound for an unknown log,
	// KindValidation when the log is not Failed.
	Resync(ctx context.Context, u perm.User, syncLog string) (status string, err error)
	// ResyncAll retries every Failed Event Sync Log of producer (the Event
	// Producer name, i.e. its URL), or of every producer when producer is "",
	// and returns how many events it retried (or queued for retry).
	ResyncAll(ctx context.Context, u perm.User, producer string) (n int, err error)
}

// Overview is the state of all streaming peers of this site.
type Overview struct {
	Producers []PeerStatus // one per Event Producer document
	Consumers []PeerStatus // one per Event Consumer document
}

// Peer states shown on the dashboard.
const (
	StateConnected = "connected" // up to date or catching up normally
	StateLagging   = "lagging"   // behind by more than a threshold the stream package chooses
	StateFailing   = "failing"   // the last pull or push failed, or events are stuck as Failed
	StatePending   = "pending"   // registered but no Document Type approved yet
)

// PeerStatus is one producer or consumer as the dashboard shows it.
type PeerStatus struct {
	// Name is the Event Producer or Event Consumer document name (the peer's
	// URL); the desk links it to that document's form.
	Name  string
	State string // one of the State* constants

	LagEvents  int64   // events the consumer has not applied yet
	LagSeconds float64 // age of the oldest event not applied yet; 0 when caught up

	// EventsPerMinute and FailuresPerMinute cover the last 60 minutes, oldest
	// first, one point per minute (missing minutes may be omitted).
	EventsPerMinute   []Point
	FailuresPerMinute []Point

	LastError string    // the most recent error, "" when none
	Backfill  *Progress // a backfill of existing documents in progress; nil when none
}

// Point is one sample of a time series.
type Point struct {
	T time.Time
	V float64
}

// Progress is how far a backfill has come.
type Progress struct {
	Done, Total int64
	DocType     string // the DocType being copied now
}
