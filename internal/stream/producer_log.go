package stream

import (
	"context"
	"encoding/json"
	"sync"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/store"
)

// loggedCache remembers, per DocType, the consumers approved and subscribed
// to it, keyed by the metadata version (Event Consumer changes bump it), so
// neither the check on every write nor the notification after its commit
// costs a query (Frappe caches the former in Redis).
type loggedCache struct {
	mu      sync.Mutex
	version int64
	set     map[string][]string // DocType → consumers (Event Consumer names)
}

func (c *loggedCache) get(ctx context.Context, t *app.Tx) (map[string][]string, error) {
	c.mu.Lock()
	if c.set != nil && c.version == t.Version && t.Version > 0 {
		s := c.set
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	cdt, err := t.Meta("Event Consumer Document Type")
	if err != nil {
		return nil, err
	}
	rows, err := t.Select(ctx, &filter.Query{DocType: cdt, Fields: []string{"ref_doctype", "parent"}, Where: []filter.Cond{
		{Field: "status", Op: "=", Value: "Approved", Kind: meta.KindText},
		{Field: "unsubscribed", Op: "=", Value: int64(0), Kind: meta.KindCheck},
	}})
	if err != nil {
		return nil, err
	}
	set := map[string][]string{}
	for _, r := range rows {
		dt := r.Str("ref_doctype")
		set[dt] = append(set[dt], r.Str("parent"))
	}
	if t.Version > 0 {
		c.mu.Lock()
		c.set, c.version = set, t.Version
		c.mu.Unlock()
	}
	return set, nil
}

// consumerCache keeps the Event Consumer documents native pulls read, keyed
// by the metadata version as loggedCache is: every save or deletion of an
// Event Consumer bumps it (config_producer.go). Loading the document and its
// rows was about a quarter of serving a small page (BenchmarkServePull). Its
// acknowledgement fields are written without a save, so they are stale here:
// native pulls do not read them from the document.
type consumerCache struct {
	mu      sync.Mutex
	version int64
	docs    map[string]doc.Doc
}

// consumerDoc loads an Event Consumer, from the cache for a native pull. The
// document returned may be shared: it must not be changed.
func (s *Streamer) consumerDoc(ctx context.Context, t *app.Tx, name string, native bool) (doc.Doc, error) {
	c := &s.consumers
	cacheable := native && t.Version > 0
	if cacheable {
		c.mu.Lock()
		d, ok := c.docs[name]
		ok = ok && c.version == t.Version
		c.mu.Unlock()
		if ok {
			return d, nil
		}
	}
	ec, err := t.Meta("Event Consumer")
	if err != nil {
		return nil, err
	}
	d, err := t.Load(ctx, ec, name, false)
	if err != nil || !cacheable {
		return d, err
	}
	c.mu.Lock()
	if c.version != t.Version || c.docs == nil {
		c.version, c.docs = t.Version, map[string]doc.Doc{}
	}
	c.docs[name] = d
	c.mu.Unlock()
	return d, nil
}

// registerProducerHooks writes an Event Update Log for every create, update
// (including submit, cancel and updates after submit, which Frappe misses)
// and delete of a DocType that has an approved consumer, in the same
// transaction as the change.
func (s *Streamer) registerProducerHooks() {
	s.App.On(app.AfterInsert, "*", func(ctx context.Context, e *app.HookEvent) error {
		return s.logChange(ctx, e, "Create")
	})
	s.App.On(app.OnUpdate, "*", func(ctx context.Context, e *app.HookEvent) error {
		if e.Action == "insert" {
			return nil // the Create log already carries the whole document
		}
		return s.logChange(ctx, e, "Update")
	})
	s.App.On(app.OnTrash, "*", func(ctx context.Context, e *app.HookEvent) error {
		return s.logChange(ctx, e, "Delete")
	})
	s.registerConsumerDocHooks()
}

func (s *Streamer) logChange(ctx context.Context, e *app.HookEvent, typ string) error {
	set, err := s.logged.get(ctx, e.Tx)
	if err != nil {
		return err
	}
	consumers := set[e.DocType.Name]
	if len(consumers) == 0 {
		return nil
	}
	var data string
	switch typ {
	case "Create":
		b, err := appendCreate(e.Doc)
		if err != nil {
			return err
		}
		data = b
	case "Update":
		u, err := doc.Diff(e.DocType, e.Tx.Meta, e.Old, e.Doc)
		if err != nil {
			return err
		}
		if u.Empty() {
			return nil
		}
		b, err := json.Marshal(u)
		if err != nil {
			return err
		}
		data = string(b)
	}
	return s.writeLog(ctx, e.Tx, store.UpdateLog{UpdateType: typ, RefDoctype: e.DocType.Name, Docname: e.Doc.Name(),
		Data: data, Origin: e.Opts.Origin}, consumers)
}

// createBufs are scratch buffers for Create payloads: the payload is kept
// as a string of its own size, and a fresh buffer for every log was the
// largest allocation a logged insert made.
var createBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendCreate is the Create payload of d: the whole document as JSON.
func appendCreate(d doc.Doc) (string, error) {
	bp := createBufs.Get().(*[]byte)
	b, err := d.AppendJSON((*bp)[:0])
	s := string(b)
	if cap(b) <= 64<<10 { // do not keep the buffer of an outsized document
		*bp = b[:0]
		createBufs.Put(bp)
	}
	return s, err
}

// writeLog inserts one update log row and notifies consumers, the approved
// consumers of its DocType, once it is committed. Its seq and creation come
// from the stream clock, which serializes log writers until commit (see
// store.Tx.NextStreamSeq), so both increase in commit order.
func (s *Streamer) writeLog(ctx context.Context, t *app.Tx, l store.UpdateLog, consumers []string) error {
	eul, err := t.Meta("Event Update Log")
	if err != nil {
		return err
	}
	// Numbered by the stream clock, named after its seq (the store finds a
	// log by name through its seq).
	if _, err := t.InsertUpdateLog(ctx, eul, l, t.Now()); err != nil {
		return err
	}
	s.Metrics.LogWritten(l.RefDoctype, l.UpdateType)
	// The consumers come from the cache (no query in the writer's path); a
	// consumer approved since this transaction began is covered by its
	// long-poll and catch-up.
	t.AfterCommit(func() { s.newLogsCommitted(consumers) })
	return nil
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
