package site

import (
	"context"

	"docstream/internal/perm"
	"docstream/internal/stream"
	"docstream/internal/web"
)

// webView adapts the streamer to what the desk consumes, keeping the web
// package free of streaming internals and the stream package free of UI types.
type webView struct{ s *stream.Streamer }

var _ web.StreamView = webView{}

func (v webView) Overview(ctx context.Context) (web.Overview, error) {
	o, err := v.s.Overview(ctx)
	if err != nil {
		return web.Overview{}, err
	}
	return web.Overview{Producers: peers(o.Producers), Consumers: peers(o.Consumers)}, nil
}

func (v webView) Resync(ctx context.Context, u perm.User, syncLog string) (string, error) {
	return v.s.ResyncAs(ctx, u, syncLog)
}

func (v webView) ResyncAll(ctx context.Context, u perm.User, producer string) (int, error) {
	return v.s.ResyncAllAs(ctx, u, producer)
}

func peers(in []stream.PeerStatus) []web.PeerStatus {
	out := make([]web.PeerStatus, len(in))
	for i, p := range in {
		out[i] = web.PeerStatus{Name: p.Name, State: p.State, LagEvents: p.LagEvents, LagSeconds: p.LagSeconds,
			EventsPerMinute: points(p.EventsPerMinute), FailuresPerMinute: points(p.FailuresPerMinute), LastError: p.LastError}
		if p.Backfill != nil {
			out[i].Backfill = &web.Progress{Done: p.Backfill.Done, Total: p.Backfill.Total, DocType: p.Backfill.DocType}
		}
	}
	return out
}

func points(in []stream.Point) []web.Point {
	out := make([]web.Point, len(in))
	for i, p := range in {
		out[i] = web.Point{T: p.T, V: p.V}
	}
	return out
}
