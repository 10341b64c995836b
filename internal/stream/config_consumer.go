package stream

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"docstream/internal/app"
	"docstream/internal/cond"
	"docstream/internal/doc"
	"docstream/internal/errs"
	"docstream/internal/frappeclient"
)

// registerConsumerHooks handles Event Producer documents on the consumer:
// saving a new one registers with the producer (reference §2.4); later saves
// push the subscription to the producer (§2.5); incoming_change saves from
// the producer carry approvals and are not echoed.
func (s *Streamer) registerConsumerHooks() {
	s.App.On(app.BeforeInsert, "Event Producer", func(ctx context.Context, e *app.HookEvent) error {
		u := strings.TrimSpace(e.Doc.Str("producer_url"))
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return errs.Validation("Producer URL must be an http:// or https:// URL, got %q", u)
		}
		e.Doc["producer_url"] = strings.TrimSuffix(u, "/")
		if e.Doc.Str("producer_url") == s.URL {
			return errs.Validation("A site cannot subscribe to itself (%s)", s.URL)
		}
		return nil
	})
	s.App.On(app.Validate, "Event Producer", func(ctx context.Context, e *app.HookEvent) error {
		takeIncoming(e)
		keepFields(e, "method_prefix", "native")
		keepBackfill(e)
		if e.Opts.Flags["incoming_change"] {
			return nil
		}
		if err := doc.CheckValues(e.DocType, e.Tx.Meta, e.Doc); err != nil {
			return err
		}
		if err := checkConditions(e.Doc.Rows("producer_doctypes")); err != nil {
			return err
		}
		if e.Action == "insert" {
			return s.register(ctx, e)
		}
		return nil
	})
	s.App.On(app.OnUpdate, "Event Producer", func(ctx context.Context, e *app.HookEvent) error {
		name := e.Doc.Name()
		e.Tx.AfterCommit(func() { s.wakeWorker(name) })
		if e.Opts.Flags["incoming_change"] || e.Action == "insert" {
			return nil
		}
		if err := s.ensureRemoteFields(ctx, e.Tx, e.Doc); err != nil {
			return err
		}
		if keysChanged(e) {
			return nil
		}
		return s.pushSubscription(ctx, e.Tx, e.Doc)
	})
	s.App.On(app.Validate, "Document Type Mapping", func(ctx context.Context, e *app.HookEvent) error {
		return validateMapping(e.Tx, e.Doc)
	})
	s.App.On(app.OnTrash, "Event Producer", func(ctx context.Context, e *app.HookEvent) error {
		lu, _ := e.Tx.Meta("Event Producer Last Update")
		name := e.Doc.Name()
		e.Tx.AfterCommit(func() { s.stopWorker(name) })
		if ok, err := e.Tx.Exists(ctx, lu, name); err != nil || !ok {
			return err
		}
		return e.Tx.DeleteRow(ctx, lu, name)
	})
}

// keepBackfill keeps each kept row's backfill progress: it is the worker's
// bookkeeping, and a user's or the producer's save carries stale copies.
func keepBackfill(e *app.HookEvent) {
	if e.Old == nil {
		return
	}
	old := map[string]doc.Doc{}
	for _, r := range e.Old.Rows("producer_doctypes") {
		old[r.Name()] = r
	}
	for _, r := range e.Doc.Rows("producer_doctypes") {
		if o := old[r.Name()]; o != nil {
			for _, f := range []string{"backfill_status", "backfill_done", "backfill_total", "backfill_after", "backfill_until", "backfill_error", "backfill_head"} {
				r[f] = o[f]
			}
		}
	}
}

// checkConditions refuses a condition that does not parse, when it is saved
// rather than when the producer first evaluates it.
func checkConditions(rows []doc.Doc) error {
	for _, r := range rows {
		if _, expr, isCmd := cond.ParseCondition(r.Str("condition")); !isCmd && expr != "" {
			if _, err := cond.Compile(expr); err != nil {
				return errs.Validation("Row #%d (%s): the condition does not parse: %v", r.Int("idx"), r.Str("ref_doctype"), err)
			}
		}
	}
	return nil
}

// remoteDocType is the producer-side DocType of a subscription row.
func remoteDocType(ctx context.Context, t *app.Tx, row doc.Doc) (string, error) {
	if row.Int("has_mapping") == 0 || row.Str("mapping") == "" {
		return row.Str("ref_doctype"), nil
	}
	mdt, err := t.Meta("Document Type Mapping")
	if err != nil {
		return "", err
	}
	m, err := t.Load(ctx, mdt, row.Str("mapping"), false)
	if err != nil {
		return "", err
	}
	return m.Str("remote_doctype"), nil
}

// register runs the handshake from inside the Event Producer's insert: every
// local check has passed, so a refusal by the producer leaves nothing here,
// and a success is committed with the new record.
func (s *Streamer) register(ctx context.Context, e *app.HookEvent) error {
	t, d := e.Tx, e.Doc
	epdt, _ := t.Meta("Event Producer")
	if ok, err := t.Exists(ctx, epdt, d.Name()); err != nil || ok {
		if ok {
			return errs.Duplicate("Event Producer %s already exists", d.Name())
		}
		return err
	}
	udt, _ := t.Meta("User")
	user, err := t.Load(ctx, udt, d.Str("user"), false)
	if err != nil {
		return err
	}
	localSecret, err := t.Password(ctx, "User", user.Name(), "api_secret")
	if err != nil {
		return err
	}
	if user.Str("api_key") == "" || localSecret == "" {
		return errs.Validation("Please generate keys for the Event Subscriber User %s first (User > API Access > Generate Keys)", user.Name())
	}
	var rows []map[string]any
	for _, r := range d.Rows("producer_doctypes") {
		dt, err := remoteDocType(ctx, t, r)
		if err != nil {
			return err
		}
		rows = append(rows, map[string]any{"doctype": dt, "condition": nilIfEmpty(r.Str("condition"))})
	}
	rowsJSON, _ := json.Marshal(rows)
	payload, _ := json.Marshal(map[string]any{
		"event_consumer": s.URL, "consumer_doctypes": string(rowsJSON), "user": user.Name(),
		"api_key": user.Str("api_key"), "api_secret": localSecret,
	})
	c := s.client(d.Str("producer_url"), d.Str("api_key"), d.Str("api_secret"))
	if err := c.Ping(ctx); err != nil {
		return errs.Validation("Failed to connect to the Event Producer site %s: %v", c.Base, err)
	}
	msg, prefix, err := callEither(ctx, c, "event_consumer.event_consumer.register_consumer", url.Values{"data": {string(payload)}})
	if err != nil {
		var re *frappeclient.RemoteError
		if asRemote(err, &re) && re.Status == 401 {
			return errs.Validation("The producer refused the API key and secret (%v)", err)
		}
		return errs.Validation("Failed to create an Event Consumer or an Event Consumer for the current site is already registered: %v", err)
	}
	var str string
	if err := json.Unmarshal(msg, &str); err != nil || str == "" {
		return errs.Validation("Failed to create an Event Consumer or an Event Consumer for the current site is already registered")
	}
	var last struct {
		LastUpdate string `json:"last_update"`
		LastSeq    *int64 `json:"last_seq"`
	}
	if err := json.Unmarshal([]byte(str), &last); err != nil {
		return errs.Validation("The producer's answer to register_consumer is not understood: %v", err)
	}
	d["method_prefix"] = prefix
	d["native"] = int64(0)
	lu := doc.Doc{"event_producer": d.Name(), "last_update": last.LastUpdate}
	if last.LastSeq != nil {
		d["native"] = int64(1)
		lu["last_seq"], lu["head_seq"] = *last.LastSeq, *last.LastSeq
	}
	if _, err := t.Insert(ctx, app.Admin(), "Event Producer Last Update", lu, app.Opts{IgnorePermissions: true}); err != nil {
		return err
	}
	return s.ensureRemoteFields(ctx, t, d)
}

// callEither calls a method under the app prefix, falling back to the v14
// core prefix when the peer does not know it (Appendix A.2).
func callEither(ctx context.Context, c *frappeclient.Client, method string, args url.Values) (json.RawMessage, string, error) {
	var lastErr error
	for _, p := range []string{PrefixApp, PrefixCore} {
		msg, _, err := c.Call(ctx, p+"."+method, args)
		if err == nil {
			return msg, p, nil
		}
		lastErr = err
		if !frappeclient.IsMethodMissing(err) {
			return nil, "", err
		}
	}
	return nil, "", lastErr
}

func asRemote(err error, re **frappeclient.RemoteError) bool {
	r, ok := err.(*frappeclient.RemoteError)
	if ok {
		*re = r
	}
	return ok
}

// ensureRemoteFields adds remote_docname and remote_site_name to each local
// DocType subscribed without use_same_name (reference §1.11).
func (s *Streamer) ensureRemoteFields(ctx context.Context, t *app.Tx, d doc.Doc) error {
	for _, r := range d.Rows("producer_doctypes") {
		if r.Int("use_same_name") != 0 {
			continue
		}
		local := r.Str("ref_doctype")
		if r.Int("has_mapping") != 0 && r.Str("mapping") != "" {
			mdt, _ := t.Meta("Document Type Mapping")
			if m, err := t.Find(ctx, mdt, r.Str("mapping"), false); err == nil && m != nil {
				local = m.Str("local_doctype")
			}
		}
		dt, err := t.Meta(local)
		if err != nil {
			return err
		}
		for _, f := range []struct{ name, label string }{{"remote_docname", "Remote Document Name"}, {"remote_site_name", "Remote Site"}} {
			if dt.Field(f.name) != nil {
				continue
			}
			cf := doc.Doc{"dt": local, "fieldname": f.name, "label": f.label, "fieldtype": "Data", "read_only": int64(1), "print_hide": int64(1)}
			if _, err := t.Insert(ctx, app.Admin(), "Custom Field", cf, app.Opts{IgnorePermissions: true}); err != nil {
				return err
			}
			if dt, err = t.Meta(local); err != nil {
				return err
			}
		}
	}
	return nil
}

// pushSubscription sends the consumer's rows to the producer's Event
// Consumer (C2, C3): statuses stay as the producer has them, new rows arrive
// Pending, removed rows disappear there too.
func (s *Streamer) pushSubscription(ctx context.Context, t *app.Tx, d doc.Doc) error {
	secret, err := t.Password(ctx, "Event Producer", d.Name(), "api_secret")
	if err != nil {
		return err
	}
	c := s.client(d.Str("producer_url"), d.Str("api_key"), secret)
	remote, err := c.GetDoc(ctx, "Event Consumer", s.URL)
	if err != nil {
		return errs.Validation("Could not update the subscription on the producer %s: %v", c.Base, err)
	}
	status := map[string]string{}
	for _, r := range remote.Rows("consumer_doctypes") {
		status[r.Str("ref_doctype")] = r.Str("status")
	}
	var rows []map[string]any
	for _, r := range d.Rows("producer_doctypes") {
		dt, err := remoteDocType(ctx, t, r)
		if err != nil {
			return err
		}
		st := status[dt]
		if st == "" {
			st = "Pending"
		}
		rows = append(rows, map[string]any{"ref_doctype": dt, "status": st, "unsubscribed": r.Int("unsubscribe"), "condition": nilIfEmpty(r.Str("condition"))})
	}
	out := remote.Plain()
	out["consumer_doctypes"] = rows
	out["user"] = d.Str("user")
	out["incoming_change"] = 1
	out["api_secret"] = "*****"
	if _, err := c.PutDoc(ctx, "Event Consumer", s.URL, out); err != nil {
		return errs.Validation("Could not update the subscription on the producer %s: %v", c.Base, err)
	}
	return nil
}
