// Package app holds the document use cases: insert, save, submit, cancel,
// delete, get and list. Each public method owns its transaction; the *Tx
// variants run inside a caller's transaction so that Event Streaming can apply
// a change and move its cursor in one commit. Document events run as typed
// hooks inside the transaction.
package app

import (
	"context"
	"crypto/rand"
	"io"
	"time"

	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/meta"
	"docstream/internal/perm"
	"docstream/internal/secret"
	"docstream/internal/store"
)

// Service is the document service of one site.
type Service struct {
	Store store.Store
	Box   *secret.Box
	Now   func() time.Time
	Rand  io.Reader

	metas *metaCache
	hooks map[Event][]hookEntry
	auth  authCache
}

// New builds the service. Register extra built-in DocTypes (RegisterBuiltin)
// and hooks (On) before calling Setup.
func New(st store.Store, box *secret.Box) *Service {
	return &Service{
		Store: st, Box: box, Now: time.Now, Rand: rand.Reader,
		metas: newMetaCache(),
		hooks: map[Event][]hookEntry{},
	}
}

// Opts changes how a write is done. The zero value is a normal user request.
type Opts struct {
	IgnorePermissions bool
	// SetName keeps a given name (replication, Frappe's insert(set_name=)).
	SetName string
	// KeepChildNames keeps child row names from the input (set_child_names=False).
	KeepChildNames bool
	// Origin is the producer URL a replicated change came from; hooks pass it
	// on so the change is not streamed back to where it came from.
	Origin string
	// IgnoreLinks skips Link validation (used for documents whose links are
	// synced separately).
	IgnoreLinks bool
	// Flags carries request flags to hooks (e.g. "incoming_change").
	Flags map[string]bool
}

// Tx wraps a store transaction with the service's metadata view.
type Tx struct {
	store.Tx
	s     *Service
	metas map[string]*meta.DocType
	after []func()
	// Version identifies the metadata this transaction sees; caches derived
	// from metadata (e.g. which DocTypes are streamed) key on it.
	Version int64
}

// Begin starts a transaction and loads current metadata.
func (s *Service) Begin(ctx context.Context, write bool) (*Tx, error) {
	st, err := s.Store.Begin(ctx, write)
	if err != nil {
		return nil, err
	}
	m, v, err := s.metas.get(ctx, st)
	if err != nil {
		st.Rollback()
		return nil, err
	}
	return &Tx{Tx: st, s: s, metas: m, Version: v}, nil
}

// AfterCommit runs f once the transaction has committed (notifications).
func (t *Tx) AfterCommit(f func()) { t.after = append(t.after, f) }

// Commit commits and runs the after-commit functions.
func (t *Tx) Commit() error {
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	for _, f := range t.after {
		f()
	}
	return nil
}

// Meta returns a DocType's effective definition.
func (t *Tx) Meta(name string) (*meta.DocType, error) {
	if dt, ok := t.metas[name]; ok {
		return dt, nil
	}
	return nil, errs.NotFound("DocType %s not found", name)
}

// MetaFunc adapts Meta for the pure packages.
func (t *Tx) MetaFunc() func(string) (*meta.DocType, error) { return t.Meta }

// DocTypes lists every DocType name known to the site.
func (t *Tx) DocTypes() []string {
	out := make([]string, 0, len(t.metas))
	for n := range t.metas {
		out = append(out, n)
	}
	return out
}

// View runs f in a read transaction.
func (s *Service) View(ctx context.Context, f func(*Tx) error) error {
	tx, err := s.Begin(ctx, false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return f(tx)
}

// Update runs f in a write transaction and commits if f succeeds.
func (s *Service) Update(ctx context.Context, f func(*Tx) error) error {
	tx, err := s.Begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Meta returns a DocType definition outside a transaction.
func (s *Service) Meta(ctx context.Context, name string) (*meta.DocType, error) {
	var dt *meta.DocType
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		dt, err = tx.Meta(name)
		return err
	})
	return dt, err
}

func stamp(t time.Time) string { return doc.FormatDatetime(t) }

func userName(u perm.User) string {
	if u.Name == "" {
		return "Guest"
	}
	return u.Name
}
