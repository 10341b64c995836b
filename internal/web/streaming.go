package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"docstream/internal/errs"
	"docstream/internal/meta"
	"docstream/internal/perm"
)

// dashboardPoll is how often the dashboard and peer panels refresh.
const dashboardPoll = "5s"

// canSeeStreaming reports whether u may see the streaming dashboard: peers'
// URLs, lag and errors are for the System Managers who run streaming.
func canSeeStreaming(u perm.User) bool { return u.HasRole("System Manager") }

type dashboardView struct {
	Enabled   bool
	Allowed   bool
	Error     string
	Producers []*peerCard
	Consumers []*peerCard
	Updated   string
	Poll      string
}

// peerCard is one producer or consumer on the dashboard.
type peerCard struct {
	Kind       string // "producer" or "consumer"
	S          PeerStatus
	URL        string
	StateLabel string
	StateClass string
	ChartID    string
	Events     string // frappe-charts data, JSON
	Failures   string
	EventsHour float64
	FailsHour  float64
	BackfillAt int64 // percent
}

func (h *Handler) dashboard(r *http.Request, u perm.User) *dashboardView {
	v := &dashboardView{Enabled: h.sv != nil, Allowed: canSeeStreaming(u), Poll: dashboardPoll}
	if !v.Enabled || !v.Allowed {
		return v
	}
	ov, err := h.sv.Overview(r.Context())
	if err != nil {
		v.Error = "Could not read the streaming status: " + h.userMessage(r, err)
		return v
	}
	now := h.now()
	for i, p := range ov.Producers {
		v.Producers = append(v.Producers, h.peerCard("producer", i, p, now))
	}
	for i, p := range ov.Consumers {
		v.Consumers = append(v.Consumers, h.peerCard("consumer", i, p, now))
	}
	v.Updated = now.Format("15:04:05")
	return v
}

func (h *Handler) peerCard(kind string, i int, p PeerStatus, now time.Time) *peerCard {
	c := &peerCard{Kind: kind, S: p, StateClass: stateClass(p.State), ChartID: kind + "-" + itoa(i)}
	c.StateLabel = strings.ToUpper(p.State[:min(1, len(p.State))]) + p.State[min(1, len(p.State)):]
	if c.StateLabel == "" {
		c.StateLabel = "Unknown"
	}
	if kind == "producer" {
		c.URL = docURL("Event Producer", p.Name)
	} else {
		c.URL = docURL("Event Consumer", p.Name)
	}
	c.Events, c.EventsHour = chartJSON("Events", p.EventsPerMinute, now)
	c.Failures, c.FailsHour = chartJSON("Failures", p.FailuresPerMinute, now)
	if b := p.Backfill; b != nil && b.Total > 0 {
		c.BackfillAt = min(max(b.Done*100/b.Total, 0), 100)
	}
	return c
}

func stateClass(state string) string {
	switch state {
	case StateConnected:
		return "green"
	case StateLagging:
		return "orange"
	case StateFailing:
		return "red"
	}
	return "gray"
}

// chartJSON turns a per-minute series into frappe-charts data covering the
// last 60 minutes (missing minutes are zero) and returns the hour's total.
func chartJSON(name string, pts []Point, now time.Time) (string, float64) {
	end := now.Truncate(time.Minute)
	start := end.Add(-59 * time.Minute)
	vals := make([]float64, 60)
	labels := make([]string, 60)
	for i := range labels {
		labels[i] = start.Add(time.Duration(i) * time.Minute).Format("15:04")
	}
	var total float64
	for _, p := range pts {
		i := int(p.T.Truncate(time.Minute).Sub(start) / time.Minute)
		if i < 0 || i >= 60 {
			continue
		}
		vals[i] += p.V
		total += p.V
	}
	b, _ := json.Marshal(map[string]any{
		"labels":   labels,
		"datasets": []any{map[string]any{"name": name, "values": vals}},
	})
	return string(b), total
}

func itoa(i int) string { return strconv.Itoa(i) }

func (h *Handler) serveDashboardPartial(w http.ResponseWriter, r *http.Request, u perm.User) error {
	if !canSeeStreaming(u) {
		return errs.Permission("The streaming dashboard is for System Managers")
	}
	h.renderPartial(w, r, http.StatusOK, "dashboard", h.dashboard(r, u))
	return nil
}

// peerView is the streaming panel of an Event Producer or Event Consumer form.
type peerView struct {
	Kind    string
	Name    string
	Enabled bool
	Card    *peerCard
	Error   string
	Poll    string
	PollURL string
}

func (h *Handler) peer(ctx context.Context, kind, name string) *peerView {
	v := &peerView{Kind: kind, Name: name, Enabled: h.sv != nil, Poll: dashboardPoll,
		PollURL: "/app/_/stream-peer?" + url.Values{"kind": {kind}, "name": {name}}.Encode()}
	if h.sv == nil {
		return v
	}
	ov, err := h.sv.Overview(ctx)
	if err != nil {
		if e, ok := errs.As(err); ok {
			v.Error = e.Message
		} else {
			h.log.Error("desk: stream overview", "err", err)
			v.Error = "Could not read the streaming status (see the server log)."
		}
		return v
	}
	list := ov.Consumers
	if kind == "producer" {
		list = ov.Producers
	}
	for i, p := range list {
		if p.Name == name {
			v.Card = h.peerCard(kind, i, p, h.now())
		}
	}
	return v
}

func (h *Handler) servePeerPartial(w http.ResponseWriter, r *http.Request, u perm.User) error {
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind != "producer" && kind != "consumer" {
		return errs.BadRequest("kind must be producer or consumer")
	}
	dtName := "Event Producer"
	if kind == "consumer" {
		dtName = "Event Consumer"
	}
	// Reading the document checks that u may see this peer at all.
	dt, err := h.app.Meta(r.Context(), dtName)
	if err != nil {
		return err
	}
	if !perm.Can(dt, u, perm.Read, "") {
		return errs.Permission("No permission to read %s", dtName)
	}
	if _, err := h.app.Get(r.Context(), u, dtName, q.Get("name")); err != nil {
		return err
	}
	h.renderPartial(w, r, http.StatusOK, "peer", h.peer(r.Context(), kind, q.Get("name")))
	return nil
}

// syncLogView is the Event Sync Log form's status box with Resync.
type syncLogView struct {
	Status    string
	Error     string
	Action    string
	CanResync bool
	Enabled   bool
}

func (h *Handler) resync(w http.ResponseWriter, r *http.Request, u perm.User, dt *meta.DocType, name string) error {
	if dt.Name != "Event Sync Log" {
		return errs.BadRequest("Resync is an action of Event Sync Log documents")
	}
	if h.sv == nil {
		return errs.Validation("Event Streaming is not enabled on this site")
	}
	back := docURL(dt.Name, name)
	status, err := h.sv.Resync(r.Context(), u, name)
	switch {
	case errs.KindOf(err) == errs.KindPermission || errs.KindOf(err) == errs.KindNotFound:
		return err
	case err != nil:
		redirect(w, r, back, &flash{Kind: "error", Text: "Resync did not work: " + h.userMessage(r, err)})
	case status == "Failed":
		redirect(w, r, back, &flash{Kind: "error", Text: "Resynced, but the event failed again. The error is below."})
	default:
		redirect(w, r, back, &flash{Kind: "ok", Text: "Resynced. The event is now " + status + "."})
	}
	return nil
}

func (h *Handler) resyncAll(w http.ResponseWriter, r *http.Request, u perm.User, producer string) error {
	if h.sv == nil {
		return errs.Validation("Event Streaming is not enabled on this site")
	}
	q := url.Values{"status": {"Failed"}}
	if producer != "" {
		q.Set("event_producer", producer)
	}
	back := listURL("Event Sync Log") + "?" + q.Encode()
	n, err := h.sv.ResyncAll(r.Context(), u, producer)
	switch {
	case errs.KindOf(err) == errs.KindPermission:
		return err
	case err != nil:
		redirect(w, r, back, &flash{Kind: "error", Text: "Resync all failed did not work: " + h.userMessage(r, err)})
	case n == 0:
		redirect(w, r, back, &flash{Kind: "info", Text: "There were no failed events to resync."})
	default:
		redirect(w, r, back, &flash{Kind: "ok", Text: "Resync started for " + plural(int64(n), "failed event", "failed events") + "."})
	}
	return nil
}

// diffView shows the data of an Event Update Log (or Event Sync Log) the way
// a person reads it: the whole document for a Create, and for an Update the
// changed fields, added rows, removed rows and changed rows.
type diffView struct {
	UpdateType string
	DocURL     string // the document the update is about, when it exists here
	DocLabel   string
	Whole      string
	Changed    []diffKV
	Added      []diffRows
	Removed    []diffNames
	RowChanged []diffRows
	Empty      bool
	IsDiff     bool
}

type diffKV struct{ Field, Value string }

type diffRows struct {
	Table string
	Rows  []string
}

type diffNames struct {
	Table string
	Names []string
}

func newDiffView(updateType, data string) *diffView {
	v := &diffView{UpdateType: updateType}
	t := strings.TrimSpace(data)
	if t == "" || t == "null" || t == "{}" {
		v.Empty = true
		return v
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(t), &m); err != nil {
		v.Whole = prettyJSON(data)
		return v
	}
	_, hasChanged := m["changed"]
	_, hasAdded := m["added"]
	_, hasRemoved := m["removed"]
	_, hasRowChanged := m["row_changed"]
	if updateType != "Update" || !(hasChanged || hasAdded || hasRemoved || hasRowChanged) {
		v.Whole = prettyJSON(data)
		return v
	}
	v.IsDiff = true
	var changed map[string]json.RawMessage
	_ = json.Unmarshal(m["changed"], &changed)
	for _, k := range sortedKeys(changed) {
		v.Changed = append(v.Changed, diffKV{Field: k, Value: rawText(changed[k])})
	}
	rowsOf := func(raw json.RawMessage) []diffRows {
		var tables map[string][]json.RawMessage
		_ = json.Unmarshal(raw, &tables)
		var out []diffRows
		for _, k := range sortedKeys(tables) {
			dr := diffRows{Table: k}
			for _, r := range tables[k] {
				dr.Rows = append(dr.Rows, prettyJSON(string(r)))
			}
			out = append(out, dr)
		}
		return out
	}
	v.Added = rowsOf(m["added"])
	v.RowChanged = rowsOf(m["row_changed"])
	var removed map[string][]string
	_ = json.Unmarshal(m["removed"], &removed)
	for _, k := range sortedKeys(removed) {
		v.Removed = append(v.Removed, diffNames{Table: k, Names: removed[k]})
	}
	return v
}

// rawText shows a JSON value: strings without quotes, the rest as JSON.
func rawText(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return prettyJSON(string(raw))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
