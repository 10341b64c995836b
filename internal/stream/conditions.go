package stream

import (
	"context"
	"encoding/json"

	"docstream/internal/app"
	"docstream/internal/cond"
	"docstream/internal/doc"
)

// Conditions is the registry of named condition functions for the
// "cmd: name" form (Frappe calls a Python function by dotted path).
var Conditions = cond.NewRegistry()

// filterByCondition applies each subscribed DocType's condition, evaluated on
// the producer against the document's current state (reference §7):
//   - a document that starts matching reaches the consumer once with its full
//     current state, as a Create (the consumer upserts it);
//   - a document that stops matching gets no further events; the consumer's
//     copy stays as it was (Frappe's behaviour, kept on purpose: deleting the
//     consumer's copy could destroy work done there);
//   - a condition that errors denies the event and is logged.
//
// Which documents a consumer has been sent is kept per consumer, so a Delete
// reaches only consumers that received the document.
func (s *Streamer) filterByCondition(ctx context.Context, t *app.Tx, consumer doc.Doc, approved map[string]doc.Doc, rows []doc.Doc) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(rows))
	current := map[string]doc.Doc{}
	for _, r := range rows {
		rec := logRecord(r)
		condition := approved[r.Str("ref_doctype")].Str("condition")
		if condition == "" {
			out = append(out, rec)
			continue
		}
		dt, name := r.Str("ref_doctype"), r.Str("docname")
		key := condKey(consumer.Name(), dt, name)
		sentVal, _, err := t.GetKV(ctx, key)
		if err != nil {
			return nil, err
		}
		sent := sentVal == "1"
		if r.Str("update_type") == "Delete" {
			if sent {
				out = append(out, rec)
				if err := t.SetKV(ctx, key, "0"); err != nil {
					return nil, err
				}
			}
			continue
		}
		ck := dt + "\x00" + name
		d, ok := current[ck]
		if !ok {
			meta, err := t.Meta(dt)
			if err != nil {
				return nil, err
			}
			if d, err = t.Find(ctx, meta, name, false); err != nil {
				return nil, err
			}
			current[ck] = d
		}
		if d == nil {
			continue // deleted since: its Delete log decides
		}
		match, err := Conditions.Match(ctx, condition, map[string]any{"doc": d.Plain(), "consumer": consumer.Plain(), "update_log": rec})
		if err != nil {
			// Frappe logs has_consumer_access errors in its Error Log; so do we.
			s.Log.Warn("stream: condition failed; event withheld", "consumer", consumer.Name(), "doctype", dt, "doc", name, "condition", condition, "err", err)
			if lerr := s.errorLog(ctx, t, "has_consumer_access error: "+consumer.Name(), dt, name,
				"condition "+condition+"\n"+err.Error()); lerr != nil {
				return nil, lerr
			}
			continue
		}
		switch {
		case match && (sent || r.Str("update_type") == "Create"):
			out = append(out, rec)
		case match:
			// Starts matching: send the whole current document once.
			b, err := json.Marshal(d.WithoutNulls())
			if err != nil {
				return nil, err
			}
			rec["update_type"], rec["data"] = "Create", string(b)
			out = append(out, rec)
		}
		if match != sent { // write only when the state changes: serving stays read-mostly
			if err := t.SetKV(ctx, key, map[bool]string{true: "1", false: "0"}[match]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// condKey names the "sent to this consumer" mark of a document. The unit
// separator cannot appear in URLs or DocType names; NUL would, on
// PostgreSQL, not be storable in text at all.
func condKey(consumer, doctype, name string) string {
	return "cond-sent\x1f" + consumer + "\x1f" + doctype + "\x1f" + name
}

// errorLog writes an Error Log row in t.
func (s *Streamer) errorLog(ctx context.Context, t *app.Tx, title, doctype, name, text string) error {
	el, err := t.Meta("Error Log")
	if err != nil {
		return err
	}
	id, err := doc.HashName(s.App.Rand)
	if err != nil {
		return err
	}
	now := doc.FormatDatetime(t.Now())
	return t.InsertRow(ctx, el, doc.Doc{"name": id, "owner": "Administrator", "modified_by": "Administrator", "creation": now,
		"modified": now, "method": title, "reference_doctype": doctype, "reference_name": name, "error": text})
}
