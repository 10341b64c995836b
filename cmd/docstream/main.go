// Command docstream runs a docstream site (serve), a two-site streaming demo
// (demo) and the benchmarks (bench).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"docstream/internal/site"
	"docstream/internal/stream"
)

var version = "dev"

func main() {
	tuneGC()
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "docstream:", err)
		os.Exit(1)
	}
}

// tuneGC lets the heap grow to five times what is live between collections
// (GOGC=400) instead of twice: draining a backlog allocates fast and a
// site's live heap is small (tens of MB), so the default spent a fifth of
// the CPU in the collector. Measured with `docstream bench stream --only d
// --rss-n 300000`: a `docstream serve` consumer drained 13,243 docs/s with a
// 97 MB peak at GOGC=200 and 15,570 docs/s with 137 MB at 400 (the default
// 100 peaked at 68 MB). GOGC and GOMEMLIMIT in the environment still decide
// when set.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		usage()
		return errors.New("missing command")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:])
	case "demo":
		return demo(ctx, args[1:])
	case "bench":
		return bench(ctx, args[1:])
	case "version":
		fmt.Println("docstream", version)
		return nil
	case "help", "-h", "--help":
		usage()
		return nil
	}
	usage()
	return fmt.Errorf("unknown command %q", args[0])
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  docstream serve --addr 127.0.0.1:8000 --data ./site1 [--db postgres://…] [--url http://…] [--admin-password …]
  docstream demo  [--dir DIR] [--n 200] [--keep]  two sites streaming sample ERP documents
  docstream bench site|stream [flags]        benchmarks (see docs/benchmarks.md)
  docstream version
`)
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var cfg site.Config
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8000", "listen address")
	fs.StringVar(&cfg.DataDir, "data", "./site1", "site folder (SQLite database and site_config.json)")
	fs.StringVar(&cfg.DB, "db", "", "PostgreSQL URL (postgres://…); default is SQLite in --data")
	fs.StringVar(&cfg.URL, "url", "", "canonical base URL of this site (default http://<addr>)")
	fs.StringVar(&cfg.AdminPassword, "admin-password", os.Getenv("DOCSTREAM_ADMIN_PASSWORD"), "Administrator password (default $DOCSTREAM_ADMIN_PASSWORD)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.Stream, err = streamConfigFromEnv(); err != nil {
		return err
	}
	s, err := site.Open(ctx, cfg)
	if err != nil {
		return err
	}
	s.Start()
	fmt.Fprintf(os.Stderr, "docstream: serving %s (data %s)\n", s.URL, cfg.DataDir)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "docstream: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.Close(sctx)
}

// streamConfigFromEnv reads Event Streaming timings from hidden environment
// variables (unset means the default). Tests and benchmarks use them to run
// `docstream serve` with short timings:
//
//	DOCSTREAM_STREAM_CATCHUP       periodic catch-up pull (default 30s)
//	DOCSTREAM_STREAM_PULL_WAIT     long-poll wait a consumer asks for (default 25s; whole seconds on the wire)
//	DOCSTREAM_STREAM_LEASE         pull lease per producer; a killed process's lease expires after it (default 60s)
//	DOCSTREAM_STREAM_RETRY_BASE    first retry delay of a failed event (default 2s)
//	DOCSTREAM_STREAM_NOTIFY_RETRY  retry delay of a failed notification (default 5s)
//	DOCSTREAM_STREAM_PAGE_SIZE     events per native pull (default 500)
//	DOCSTREAM_STREAM_BATCH_WINDOW  a consumer following a stream is answered at most this often (default 50ms)
func streamConfigFromEnv() (stream.Config, error) {
	var c stream.Config
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{
		{"DOCSTREAM_STREAM_CATCHUP", &c.CatchUp},
		{"DOCSTREAM_STREAM_PULL_WAIT", &c.PullWait},
		{"DOCSTREAM_STREAM_LEASE", &c.LeaseTimeout},
		{"DOCSTREAM_STREAM_RETRY_BASE", &c.RetryBase},
		{"DOCSTREAM_STREAM_NOTIFY_RETRY", &c.NotifyRetry},
		{"DOCSTREAM_STREAM_BATCH_WINDOW", &c.BatchWindow},
	} {
		v := os.Getenv(d.env)
		if v == "" {
			continue
		}
		dur, err := time.ParseDuration(v)
		if err != nil || dur <= 0 {
			return c, fmt.Errorf("%s=%q: want a positive duration such as 2s", d.env, v)
		}
		*d.dst = dur
	}
	if v := os.Getenv("DOCSTREAM_STREAM_PAGE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("DOCSTREAM_STREAM_PAGE_SIZE=%q: want a positive integer", v)
		}
		c.PageSize = n
	}
	return c, nil
}
