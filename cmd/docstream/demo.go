package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"docstream/internal/app"
	"docstream/internal/doc"
	"docstream/internal/erp"
	"docstream/internal/errs"
	"docstream/internal/obs"
	"docstream/internal/site"
	"docstream/internal/stream"
)

// demoOptions configure runDemo. The zero value of a field takes its default.
type demoOptions struct {
	Dir           string // data folder; "" means a fresh temporary folder
	Keep          bool   // keep the temporary folder at exit
	N             int    // number of Items and of Sales Invoices (default 200)
	ProducerAddr  string // default 127.0.0.1:8001
	ConsumerAddr  string // default 127.0.0.1:8002
	AdminPassword string // default "admin"
	Seed          uint64 // sample data seed (default 1)
	Log           *slog.Logger
	Stream        stream.Config
	Tick          time.Duration // progress interval (default 500ms)
	// CatchUpTimeout bounds the wait for the consumer once all sample
	// documents exist; the summary is printed then anyway (default 2m).
	CatchUpTimeout time.Duration
	// OnReady runs once the consumer has caught up and the summary is out,
	// with both sites still serving (tests check them, then cancel ctx).
	OnReady func(producer, consumer *site.Site)
}

// The streamed DocTypes and whether the consumer keeps the producer's names.
// Sales Invoices are named by the consumer's own naming series and carry the
// producer's name in remote_docname, as the user documentation advises for
// DocTypes with a naming series.
var demoDocTypes = []struct {
	name     string
	sameName bool
}{
	{"Company", true}, {"Item Group", true}, {"Item", true}, {"Customer", true},
	{"Supplier", true}, {"Address", true}, {"Sales Invoice", false},
}

const demoSubscriber = "sync@example.com"

func demo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var o demoOptions
	fs.StringVar(&o.Dir, "dir", "", "folder for the two sites' data (default: a fresh temporary folder, removed at exit)")
	fs.IntVar(&o.N, "n", 200, "how many Items and Sales Invoices to create on the producer")
	fs.StringVar(&o.ProducerAddr, "producer-addr", "127.0.0.1:8001", "listen address of the producer site (a free port is used if it is taken)")
	fs.StringVar(&o.ConsumerAddr, "consumer-addr", "127.0.0.1:8002", "listen address of the consumer site (a free port is used if it is taken)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary data folder at exit")
	fs.StringVar(&o.AdminPassword, "admin-password", "admin", "Administrator password of both sites")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo: unexpected argument %q", fs.Arg(0))
	}
	if o.N < 1 {
		return errors.New("demo: --n must be at least 1")
	}
	var err error
	if o.Stream, err = streamConfigFromEnv(); err != nil {
		return err
	}
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return runDemo(ctx, os.Stdout, o)
}

func (o *demoOptions) defaults() {
	if o.N <= 0 {
		o.N = 200
	}
	if o.ProducerAddr == "" {
		o.ProducerAddr = "127.0.0.1:8001"
	}
	if o.ConsumerAddr == "" {
		o.ConsumerAddr = "127.0.0.1:8002"
	}
	if o.AdminPassword == "" {
		o.AdminPassword = "admin"
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Tick <= 0 {
		o.Tick = 500 * time.Millisecond
	}
	if o.CatchUpTimeout <= 0 {
		o.CatchUpTimeout = 2 * time.Minute
	}
}

// runDemo runs the demo until ctx ends: two sites, the ERP module on both,
// the subscription set up and approved through the document API, sample
// documents created on the producer while progress is printed to out, then a
// summary, then serving until ctx is cancelled. Cancelling ctx is the normal
// way to stop; it returns nil then.
func runDemo(ctx context.Context, out io.Writer, o demoOptions) (err error) {
	o.defaults()
	start := time.Now()
	dir := o.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "docstream-demo-"); err != nil {
			return err
		}
		if !o.Keep {
			defer os.RemoveAll(dir) // runs after the sites are closed (defers run last-in first-out)
		}
	}
	fmt.Fprintf(out, "docstream demo: Event Streaming between two sites in this process\n")
	switch {
	case o.Dir != "":
		fmt.Fprintf(out, "  data      %s\n", dir)
	case o.Keep:
		fmt.Fprintf(out, "  data      %s (kept at exit)\n", dir)
	default:
		fmt.Fprintf(out, "  data      %s (removed at exit; --keep keeps it)\n", dir)
	}

	p, err := openDemoSite(ctx, out, "producer", filepath.Join(dir, "producer"), o.ProducerAddr, o)
	if err != nil {
		return err
	}
	c, err := openDemoSite(ctx, out, "consumer", filepath.Join(dir, "consumer"), o.ConsumerAddr, o)
	if err != nil {
		closeSites(out, p)
		return err
	}
	p.Start()
	c.Start()
	// The consumer first: its pull worker long-polls the producer.
	defer func() {
		if cerr := closeSites(out, c, p); err == nil {
			err = cerr
		}
	}()
	fmt.Fprintf(out, "  producer  %s\n  consumer  %s\n\n", p.URL, c.URL)

	fresh, keys, err := setUpDemo(ctx, out, p, c)
	if err != nil {
		return stopped(ctx, out, err)
	}

	prog := &demoProgress{start: time.Now()}
	gen := make(chan error, 1)
	if fresh {
		fmt.Fprintf(out, "\nCreating sample documents on the producer (seed %d) while they stream to the consumer:\n", o.Seed)
		go func() { gen <- generateSample(ctx, p.App, o.N, o.Seed, prog) }()
	} else {
		fmt.Fprintf(out, "\nThe producer has sample documents from an earlier run: not creating more.\n")
		gen <- nil
	}

	tty := isTerminal(out)
	tick := time.NewTicker(o.Tick)
	defer tick.Stop()
	var genDone bool
	var genErr error
	var doneAt time.Time
	var last demoStatus
	for {
		select {
		case <-ctx.Done():
			if !genDone {
				<-gen
			}
			if tty {
				fmt.Fprintln(out)
			}
			return stopped(ctx, out, nil)
		case genErr = <-gen:
			genDone, doneAt = true, time.Now()
			if genErr != nil {
				if tty {
					fmt.Fprintln(out)
				}
				return stopped(ctx, out, fmt.Errorf("creating sample documents: %w", genErr))
			}
			continue
		case <-tick.C:
		}
		st, err := readStatus(ctx, p, c)
		if err != nil {
			if ctx.Err() != nil {
				continue
			}
			return err
		}
		last = st
		printProgress(out, tty, time.Since(prog.start), prog, st)
		caughtUp := genDone && st.cursor >= st.head
		if caughtUp || (genDone && time.Since(doneAt) > o.CatchUpTimeout) {
			break
		}
	}
	if tty {
		fmt.Fprintln(out)
	}
	if last.cursor >= last.head {
		fmt.Fprintf(out, "\nCaught up in %.1fs: the consumer is at change %d of %d (%d applied in this run, %d failing).\n",
			time.Since(prog.start).Seconds(), last.cursor, last.head, last.applied, last.failing)
	} else {
		fmt.Fprintf(out, "\nNot caught up after %s: %d changes still to apply. The consumer's Event Sync Log, its /metrics and the log above say why.\n",
			o.CatchUpTimeout, last.head-last.cursor)
	}
	if last.failing > 0 {
		fmt.Fprintf(out, "%d events are failing (retried with backoff): see the Event Sync Log on the consumer.\n", last.failing)
	}
	if err := printSummary(ctx, out, p, c, keys, o.AdminPassword, time.Since(start)); err != nil {
		return stopped(ctx, out, err)
	}
	if o.OnReady != nil {
		o.OnReady(p, c)
	}
	<-ctx.Done()
	return stopped(ctx, out, nil)
}

// stopped reports the end of the demo: a cancelled context is the normal
// way out (Ctrl-C), anything else is an error.
func stopped(ctx context.Context, out io.Writer, err error) error {
	if ctx.Err() != nil {
		fmt.Fprintln(out, "\nStopping...")
		return nil
	}
	return err
}

func openDemoSite(ctx context.Context, out io.Writer, role, dir, addr string, o demoOptions) (*site.Site, error) {
	cfg := site.Config{Addr: addr, DataDir: dir, AdminPassword: o.AdminPassword, Log: o.Log.With("site", role), Stream: o.Stream}
	s, err := site.Open(ctx, cfg)
	if err != nil && errors.Is(err, syscall.EADDRINUSE) {
		host, _, _ := net.SplitHostPort(addr)
		cfg.Addr = net.JoinHostPort(host, "0")
		if s, err = site.Open(ctx, cfg); err == nil {
			fmt.Fprintf(out, "  (%s is in use: the %s listens on a free port instead)\n", addr, role)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s site: %w", role, err)
	}
	return s, nil
}

// closeSites closes the sites in order and says so.
func closeSites(out io.Writer, sites ...*site.Site) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var first error
	for _, s := range sites {
		if err := s.Close(ctx); err != nil && first == nil {
			first = err
		}
	}
	if first == nil {
		fmt.Fprintln(out, "Both sites stopped.")
	}
	return first
}

// apiKeys are the Event Subscriber's API credentials on one site.
type apiKeys struct{ key, secret string }

// setUpDemo does what a user does to stream between two sites (the spec's
// steps), through the same document API the REST handlers call: the ERP
// DocTypes on both sites, the Event Subscriber with API keys on both, the
// Event Producer on the consumer (which registers with the producer), and
// the approval of every DocType on the producer's Event Consumer. It reports
// fresh = false when the folder already holds a set-up demo.
func setUpDemo(ctx context.Context, out io.Writer, p, c *site.Site) (fresh bool, consumerKeys apiKeys, err error) {
	fmt.Fprintln(out, "Setting up, as a user would:")
	for _, s := range []*site.Site{p, c} {
		if err := erp.Install(ctx, s.App); err != nil {
			return false, apiKeys{}, err
		}
	}
	fmt.Fprintf(out, "  - installed the ERP sample module on both sites: %s\n", strings.Join(erp.DocTypes(), ", "))

	var pk, ck apiKeys
	for i, s := range []*site.Site{p, c} {
		k, err := ensureSubscriber(ctx, s)
		if err != nil {
			return false, apiKeys{}, err
		}
		if i == 0 {
			pk = k
		} else {
			ck = k
		}
	}
	fmt.Fprintf(out, "  - Event Subscriber %s (System Manager) with API keys on both sites\n", demoSubscriber)

	existing, err := c.App.List(ctx, app.Admin(), app.ListArgs{DocType: "Event Producer", Fields: []string{"name"}, Limit: 0})
	if err != nil {
		return false, apiKeys{}, err
	}
	for _, e := range existing {
		if e.Name() == p.URL {
			fmt.Fprintf(out, "  - the consumer already subscribes to %s (this folder was used before)\n", p.URL)
			n, err := p.App.Count(ctx, app.Admin(), app.ListArgs{DocType: "Sales Invoice"})
			return err == nil && n == 0, ck, err
		}
	}
	if len(existing) > 0 {
		return false, apiKeys{}, fmt.Errorf("this folder holds a demo whose producer was %s, not %s: start it with the same --producer-addr, or use another --dir",
			existing[0].Name(), p.URL)
	}

	var rows []doc.Doc
	var names []string
	for _, d := range demoDocTypes {
		rows = append(rows, doc.Doc{"ref_doctype": d.name, "use_same_name": boolInt(d.sameName)})
		names = append(names, d.name)
	}
	// Saving the Event Producer checks the producer, registers this site as
	// its consumer and adds remote_docname/remote_site_name to Sales Invoice.
	if _, err := c.App.Insert(ctx, app.Admin(), "Event Producer", doc.Doc{"producer_url": p.URL,
		"api_key": pk.key, "api_secret": pk.secret, "user": demoSubscriber, "producer_doctypes": rows}, app.Opts{}); err != nil {
		return false, apiKeys{}, fmt.Errorf("create the Event Producer on the consumer: %w", err)
	}
	fmt.Fprintf(out, "  - Event Producer %s on the consumer for %s\n", p.URL, strings.Join(names, ", "))
	fmt.Fprintf(out, "    (same names, except Sales Invoice: the consumer's own SINV series, with remote_docname)\n")

	ec, err := p.App.Get(ctx, app.Admin(), "Event Consumer", c.URL)
	if err != nil {
		return false, apiKeys{}, fmt.Errorf("the Event Consumer on the producer: %w", err)
	}
	for _, r := range ec.Rows("consumer_doctypes") {
		r["status"] = "Approved"
	}
	if _, err := p.App.Save(ctx, app.Admin(), "Event Consumer", c.URL, doc.Doc{"consumer_doctypes": ec["consumer_doctypes"]}, app.Opts{}); err != nil {
		return false, apiKeys{}, fmt.Errorf("approve the Event Consumer on the producer: %w", err)
	}
	fmt.Fprintf(out, "  - Event Consumer %s approved on the producer for every DocType\n", c.URL)
	return true, ck, nil
}

// ensureSubscriber creates the Event Subscriber user if it is missing and
// returns its API key and secret, generating them the first time.
func ensureSubscriber(ctx context.Context, s *site.Site) (apiKeys, error) {
	u, err := s.App.Get(ctx, app.Admin(), "User", demoSubscriber)
	if e, ok := errs.As(err); ok && e.Kind == errs.KindNotFound {
		u, err = s.App.Insert(ctx, app.Admin(), "User", doc.Doc{"email": demoSubscriber, "first_name": "Event", "last_name": "Subscriber",
			"new_password": s.Cfg.AdminPassword, "roles": []doc.Doc{{"role": "System Manager"}}}, app.Opts{})
	}
	if err != nil {
		return apiKeys{}, fmt.Errorf("event subscriber on %s: %w", s.URL, err)
	}
	if u.Str("api_key") == "" {
		sec, err := s.App.GenerateKeys(ctx, app.Admin(), demoSubscriber)
		if err != nil {
			return apiKeys{}, fmt.Errorf("generate keys on %s: %w", s.URL, err)
		}
		u, err = s.App.Get(ctx, app.Admin(), "User", demoSubscriber)
		if err != nil {
			return apiKeys{}, err
		}
		return apiKeys{u.Str("api_key"), sec}, nil
	}
	var k apiKeys
	err = s.App.View(ctx, func(t *app.Tx) error {
		k.key = u.Str("api_key")
		k.secret, err = t.Password(ctx, "User", demoSubscriber, "api_secret")
		return err
	})
	return k, err
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// demoStatus is one reading of both sites.
type demoStatus struct {
	head    int64   // producer: newest update log sequence number
	cursor  int64   // consumer: last producer sequence number applied (Event Producer Last Update)
	applied int64   // consumer: events applied (docstream_events_applied_total)
	failing int64   // consumer: Event Sync Logs in status Failed now
	lagSec  float64 // age of the oldest change not applied yet on the consumer
}

func readStatus(ctx context.Context, p, c *site.Site) (demoStatus, error) {
	var st demoStatus
	err := p.App.View(ctx, func(t *app.Tx) error {
		var err error
		st.head, err = t.StreamHead(ctx)
		return err
	})
	if err != nil {
		return st, err
	}
	lu, err := c.App.Get(ctx, app.Admin(), "Event Producer Last Update", p.URL)
	if err == nil {
		st.cursor = lu.Int("last_seq")
	} else if e, ok := errs.As(err); !ok || e.Kind != errs.KindNotFound {
		return st, err
	}
	st.failing, err = c.App.Count(ctx, app.Admin(), app.ListArgs{DocType: "Event Sync Log",
		Filters: map[string]any{"event_producer": p.URL, "status": "Failed"}})
	if err != nil {
		return st, err
	}
	st.applied = int64(metricValue(c.Metrics, "docstream_events_applied_total", p.URL))
	// The consumer's lag gauge moves once per pull; between pulls, the age
	// of the oldest change the consumer has not applied is read on the
	// producer's log, so the line shows lag growing while a page applies.
	st.lagSec = metricValue(c.Metrics, "docstream_producer_lag_seconds", p.URL)
	if st.head > st.cursor {
		names := make([]string, len(demoDocTypes))
		for i, d := range demoDocTypes {
			names[i] = d.name
		}
		var oldest string
		err := p.App.View(ctx, func(t *app.Tx) error {
			var err error
			oldest, err = stream.OldestLogAfter(ctx, t, names, st.cursor)
			return err
		})
		if err != nil {
			return st, err
		}
		if t, err := time.ParseInLocation(doc.DatetimeLayout, oldest, time.Local); err == nil {
			st.lagSec = max(st.lagSec, time.Since(t).Seconds())
		}
	} else {
		st.lagSec = 0
	}
	return st, nil
}

// metricValue reads one series of a site's metrics, labelled producer=....
func metricValue(m *obs.Metrics, name, producer string) float64 {
	mfs, err := m.Registry.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "producer" && l.GetValue() == producer {
					if g := s.GetGauge(); g != nil {
						return g.GetValue()
					}
					return s.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func printProgress(out io.Writer, tty bool, elapsed time.Duration, prog *demoProgress, st demoStatus) {
	line := fmt.Sprintf("  [%5.1fs] producer: %4d docs created, %4d changes | consumer: %4d applied | lag: %3d events, %4.2fs | failed: %d",
		elapsed.Seconds(), prog.created.Load(), st.head, st.applied, max(st.head-st.cursor, 0), st.lagSec, st.failing)
	if tty {
		fmt.Fprintf(out, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(out, line)
	}
}

// isTerminal reports whether out is a terminal, where the progress line is
// rewritten in place.
func isTerminal(out io.Writer) bool {
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// printSummary says where to look: URLs, logins, document counts on both
// sides, and commands to try.
func printSummary(ctx context.Context, out io.Writer, p, c *site.Site, keys apiKeys, password string, elapsed time.Duration) error {
	fmt.Fprintf(out, "\n%-20s %9s %9s\n", "DocType", "producer", "consumer")
	for _, d := range demoDocTypes {
		np, err := p.App.Count(ctx, app.Admin(), app.ListArgs{DocType: d.name})
		if err != nil {
			return err
		}
		nc, err := c.App.Count(ctx, app.Admin(), app.ListArgs{DocType: d.name})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%-20s %9d %9d\n", d.name, np, nc)
	}
	fmt.Fprintln(out)
	for _, x := range []struct {
		role string
		s    *site.Site
	}{{"Producer", p}, {"Consumer", c}} {
		fmt.Fprintf(out, "%s  %s\n", x.role, x.s.URL)
		if x.s.Web != nil {
			fmt.Fprintf(out, "  desk     %s/app\n", x.s.URL)
		} else {
			fmt.Fprintf(out, "  desk     %s/app (the desk UI is not served by this build yet: use the API)\n", x.s.URL)
		}
		fmt.Fprintf(out, "  API      %s/api/resource/Sales%%20Invoice\n", x.s.URL)
		fmt.Fprintf(out, "  metrics  %s/metrics\n", x.s.URL)
	}
	fmt.Fprintf(out, "\nLogins (both sites)\n")
	fmt.Fprintf(out, "  Administrator / %s\n", password)
	fmt.Fprintf(out, "  %s / %s   (the Event Subscriber, System Manager)\n", demoSubscriber, password)
	fmt.Fprintf(out, "  consumer API token of %s: %s:%s\n", demoSubscriber, keys.key, keys.secret)

	auth := fmt.Sprintf("Authorization: token %s:%s", keys.key, keys.secret)
	si := c.URL + "/api/resource/" + url.PathEscape("Sales Invoice")
	esl := c.URL + "/api/resource/" + url.PathEscape("Event Sync Log")
	fmt.Fprintf(out, "\nTry\n")
	fmt.Fprintf(out, "  # Sales Invoices on the consumer, with the producer's name in remote_docname\n")
	fmt.Fprintf(out, "  curl -s -G -H '%s' %s \\\n", auth, si)
	fmt.Fprintf(out, "    --data-urlencode 'fields=[\"name\",\"remote_docname\",\"customer\",\"grand_total\",\"docstatus\"]' -d limit_page_length=5\n")
	fmt.Fprintf(out, "  # what the consumer applied, newest first\n")
	fmt.Fprintf(out, "  curl -s -G -H '%s' %s \\\n", auth, esl)
	fmt.Fprintf(out, "    --data-urlencode 'fields=[\"update_type\",\"ref_doctype\",\"docname\",\"status\"]' -d limit_page_length=5\n")
	fmt.Fprintf(out, "  # streaming metrics: lag, events applied and failed, pull latency\n")
	fmt.Fprintf(out, "  curl -s %s/metrics | grep '^docstream_'\n", c.URL)
	fmt.Fprintf(out, "\nReady in %.1fs. Both sites keep serving: change documents on the producer and watch them arrive on the consumer.\n", elapsed.Seconds())
	fmt.Fprintf(out, "Press Ctrl-C to stop.\n")
	return nil
}
