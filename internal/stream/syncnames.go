package stream

import (
	"context"
	"strconv"
	"sync"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
)

// Event Sync Log rows were named by ten random characters, so the few
// hundred rows of every applied page went to random places of the name
// index: on SQLite nearly a page (a WAL frame) each. Frappe gives hash names
// a time prefix for the same reason. On SQLite, where one process writes,
// a consumer names its sync logs in increasing order instead (SortableName):
// draining a backlog of 100,000 ran at 27,800-29,900 docs/s against
// 23,900-24,600 (docs/benchmarks.md). Where other processes may write too
// (PostgreSQL: store.Store.SoleWriter is false) they keep random names.
//
// Names stay unique across restarts and a clock set back: before a name is
// handed out, a mark past it is stored (KV syncNamesKey, in the transaction
// that inserts the name, an hour ahead so that this is rare), and a process
// starts after the stored mark.

const (
	syncNamesKey   = "sync_log_names_until" // milliseconds since doc.SortableNameEpoch
	syncNamesAhead = int64(time.Hour / time.Millisecond)
	namesPerMS     = 36 * 36
)

type syncNamer struct {
	mu       sync.Mutex
	loaded   bool
	last     int64 // milliseconds of the last name handed out
	n        int   // its second part
	reserved int64 // a committed mark: every name handed out is below it
}

// syncLogNames returns k names for new Event Sync Log rows written in t.
func (s *Streamer) syncLogNames(ctx context.Context, t *app.Tx, k int) ([]string, error) {
	names := make([]string, k)
	if !s.App.Store.SoleWriter() {
		for i := range names {
			var err error
			if names[i], err = doc.HashName(s.App.Rand); err != nil {
				return nil, err
			}
		}
		return names, nil
	}
	n := &s.syncNames
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.loaded {
		v, ok, err := t.GetKV(ctx, syncNamesKey)
		if err != nil {
			return nil, err
		}
		mark := int64(0)
		if ok {
			if mark, err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, err
			}
		}
		// Names before the mark may be taken: start at it, second part 0.
		n.last, n.n, n.reserved, n.loaded = mark, -1, mark, true
	}
	now := s.Now().UnixMilli() - doc.SortableNameEpoch
	for i := range names {
		if now > n.last {
			n.last, n.n = now, 0
		} else if n.n++; n.n == namesPerMS {
			n.last, n.n = n.last+1, 0
		}
		names[i] = doc.SortableName(n.last, n.n)
	}
	if n.last >= n.reserved {
		mark := n.last + syncNamesAhead
		if err := t.SetKV(ctx, syncNamesKey, strconv.FormatInt(mark, 10)); err != nil {
			return nil, err
		}
		t.AfterCommit(func() {
			n.mu.Lock()
			n.reserved = max(n.reserved, mark)
			n.mu.Unlock()
		})
	}
	return names, nil
}
