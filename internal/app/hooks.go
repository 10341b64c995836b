package app

import (
	"context"

	"docstream/internal/doc"
	"docstream/internal/filter"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// Event names a point in a document's life (reference §4.2–§4.4).
type Event string

// The document events, in Frappe's order for insert: before_insert, validate,
// after_insert, on_update; for save: validate, on_update (+ on_submit or
// on_cancel); for delete: on_trash, after_delete.
const (
	BeforeInsert Event = "before_insert"
	Validate     Event = "validate"
	AfterInsert  Event = "after_insert"
	OnUpdate     Event = "on_update"
	OnSubmit     Event = "on_submit"
	OnCancel     Event = "on_cancel"
	OnTrash      Event = "on_trash"
	AfterDelete  Event = "after_delete"
)

// HookEvent is what a hook sees. Doc may be changed by before_insert and
// validate hooks; later hooks must not change it.
type HookEvent struct {
	Tx      *Tx
	DocType *meta.DocType
	Doc     doc.Doc
	Old     doc.Doc // the stored version before a save (nil on insert)
	User    perm.User
	Action  string // save, submit, cancel, update_after_submit, insert, delete
	Opts    Opts
}

// Hook runs inside the document's transaction; an error aborts the whole write.
type Hook func(ctx context.Context, e *HookEvent) error

type hookEntry struct {
	doctype string // "*" for every DocType
	fn      Hook
}

// On registers a hook for an event on one DocType, or "*" for all.
func (s *Service) On(ev Event, doctype string, fn Hook) {
	s.hooks[ev] = append(s.hooks[ev], hookEntry{doctype: doctype, fn: fn})
}

// run calls the DocType's own hooks, then the "*" hooks, as Frappe does.
func (s *Service) run(ctx context.Context, ev Event, e *HookEvent) error {
	for _, pass := range []bool{false, true} {
		for _, h := range s.hooks[ev] {
			if (h.doctype == "*") != pass || (!pass && h.doctype != e.DocType.Name) {
				continue
			}
			if err := h.fn(ctx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

func allRows(dt *meta.DocType) *filter.Query {
	return &filter.Query{DocType: dt, Fields: filter.AllColumns(dt)}
}
