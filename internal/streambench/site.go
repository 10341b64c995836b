package streambench

import (
	"context"
	"io"
	"log/slog"

	"docstream/internal/site"
	"docstream/internal/stream"
)

// SiteOptions open an in-process site.
type SiteOptions struct {
	Dir    string // data folder (site_config.json; site.db on SQLite)
	Addr   string // listen address; "127.0.0.1:0" picks a port
	DB     string // PostgreSQL DSN; "" is SQLite in Dir
	Stream stream.Config
	Log    *slog.Logger // nil discards
	// BeforeStart runs after the site is set up and before it serves and
	// streams (the place to register extra hooks).
	BeforeStart func(*site.Site)
}

// OpenSite opens and starts a site in this process, exactly as `docstream
// serve` does.
func OpenSite(ctx context.Context, o SiteOptions) (*site.Site, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := site.Open(ctx, site.Config{Addr: o.Addr, DataDir: o.Dir, DB: o.DB, AdminPassword: AdminPassword,
		Log: o.Log, Stream: o.Stream})
	if err != nil {
		return nil, err
	}
	if o.BeforeStart != nil {
		o.BeforeStart(s)
	}
	s.Start()
	return s, nil
}
