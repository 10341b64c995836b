package stream

import (
	"context"
	"fmt"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/frappeclient"
)

// registerConsumerDocHooks handles Event Consumer documents on the producer:
// an incoming_change save (the consumer pushing its configuration) is taken
// as is; an admin's save (approving or rejecting rows) is pushed to the
// consumer's Event Producer (reference §2.5, producer → consumer).
func (s *Streamer) registerConsumerDocHooks() {
	s.App.On(app.Validate, "Event Consumer", func(ctx context.Context, e *app.HookEvent) error {
		takeIncoming(e)
		// These fields are the producer's own bookkeeping: a consumer's PUT
		// of the whole document (Frappe's C3) carries stale copies.
		keepFields(e, "acked_seq", "last_pull", "method_prefix")
		return nil
	})
	s.App.On(app.OnUpdate, "Event Consumer", func(ctx context.Context, e *app.HookEvent) error {
		// Which DocTypes are logged depends on these rows: invalidate the cache
		// in every process.
		if err := e.Tx.BumpMetaVersion(ctx); err != nil {
			return err
		}
		if e.Opts.Flags["incoming_change"] || e.Action == "insert" || keysChanged(e) {
			return nil
		}
		return s.pushApproval(ctx, e.Tx, e.Doc)
	})
	s.App.On(app.OnTrash, "Event Consumer", func(ctx context.Context, e *app.HookEvent) error {
		return e.Tx.BumpMetaVersion(ctx)
	})
}

// keepFields restores fields a save must not change from the stored version.
func keepFields(e *app.HookEvent, fields ...string) {
	if e.Old == nil {
		return
	}
	for _, f := range fields {
		e.Doc[f] = e.Old[f]
	}
}

// takeIncoming notes and clears incoming_change, Frappe's marker for a save
// that came from the peer and must not be echoed back.
func takeIncoming(e *app.HookEvent) {
	if e.Doc.Int("incoming_change") != 0 {
		e.Opts.Flags["incoming_change"] = true
		e.Doc["incoming_change"] = int64(0)
	}
}

// keysChanged: Frappe skips propagation when the keys were edited, since the
// stored keys of the other side are then out of date anyway.
func keysChanged(e *app.HookEvent) bool {
	return e.Old != nil && e.Old.Str("api_key") != e.Doc.Str("api_key")
}

// pushApproval sends the rows' statuses to the consumer's Event Producer
// record (P3–P5 in reference §2.5). The consumer's rows may name a mapping;
// their remote DocType is then the mapping's remote_doctype.
func (s *Streamer) pushApproval(ctx context.Context, t *app.Tx, consumer doc.Doc) error {
	secret, err := t.Password(ctx, "Event Consumer", consumer.Name(), "api_secret")
	if err != nil {
		return err
	}
	c := s.client(consumer.Str("callback_url"), consumer.Str("api_key"), secret)
	remote, err := c.GetDoc(ctx, "Event Producer", s.URL)
	if err != nil {
		return errs.Validation("Could not update the consumer %s: %v", consumer.Name(), err)
	}
	status := map[string]string{}
	for _, r := range consumer.Rows("consumer_doctypes") {
		status[r.Str("ref_doctype")] = r.Str("status")
	}
	for _, r := range remote.Rows("producer_doctypes") {
		dt := r.Str("ref_doctype")
		if r.Int("has_mapping") != 0 && r.Str("mapping") != "" {
			if rd, err := remoteDocTypeOfMapping(ctx, c, r.Str("mapping")); err == nil && rd != "" {
				dt = rd
			}
		}
		if st, ok := status[dt]; ok {
			r["status"] = st
		}
	}
	remote["incoming_change"] = int64(1)
	remote["api_secret"] = "*****" // unchanged (all-* means unchanged)
	if _, err := c.PutDoc(ctx, "Event Producer", s.URL, remote.Plain()); err != nil {
		return errs.Validation("Could not update the consumer %s: %v", consumer.Name(), err)
	}
	return nil
}

// remoteDocTypeOfMapping asks the consumer for a mapping's remote_doctype with
// frappe.client.get_value (P4).
func remoteDocTypeOfMapping(ctx context.Context, c *frappeclient.Client, mapping string) (string, error) {
	d, err := c.GetDoc(ctx, "Document Type Mapping", mapping)
	if err != nil {
		return "", fmt.Errorf("mapping %s: %w", mapping, err)
	}
	return d.Str("remote_doctype"), nil
}
