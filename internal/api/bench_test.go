package api_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"docstream/internal/app"
	"docstream/internal/sitetest"
	"docstream/internal/store/sqlstore"
)

// Site server benchmarks (issue 3): HTTP insert of a document with 10 fields
// and 3 child rows, HTTP get, HTTP list with a filter, on SQLite and on
// PostgreSQL when DOCSTREAM_TEST_POSTGRES is set. Each also reports its rate
// as a fraction of a raw database/sql insert of the same rows (parent + 3
// children, one transaction per document) on fresh tables of the same
// database kind, measured in the same run:
//
//	go test ./internal/api -run '^$' -bench BenchmarkSite -benchtime 2000x
//
// Each measured HTTP call is followed by one raw insert, so both see the same
// machine load; vs-raw-insert is (raw insert ns) / (HTTP ns), so 0.25 means
// the HTTP operation runs at a quarter of the raw insert rate.

const benchParent = `{"name": "Bench Order", "autoname": "hash", "fields": [
	{"fieldname": "customer", "fieldtype": "Link", "options": "Test Customer"},
	{"fieldname": "order_date", "fieldtype": "Date"},
	{"fieldname": "delivered_at", "fieldtype": "Datetime"},
	{"fieldname": "qty", "fieldtype": "Int"},
	{"fieldname": "amount", "fieldtype": "Float"},
	{"fieldname": "total", "fieldtype": "Currency"},
	{"fieldname": "paid", "fieldtype": "Check"},
	{"fieldname": "status", "fieldtype": "Select", "options": "Open\nClosed"},
	{"fieldname": "notes", "fieldtype": "Small Text"},
	{"fieldname": "remarks", "fieldtype": "Data"},
	{"fieldname": "items", "fieldtype": "Table", "options": "Bench Order Item"}],
	"permissions": [{"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1}]}`

const benchChild = `{"name": "Bench Order Item", "istable": 1, "fields": [
	{"fieldname": "item_code", "fieldtype": "Data"},
	{"fieldname": "qty", "fieldtype": "Int"},
	{"fieldname": "rate", "fieldtype": "Currency"},
	{"fieldname": "note", "fieldtype": "Data"}]}`

func benchDoc(i int) map[string]any {
	status := "Open"
	if i%2 == 1 {
		status = "Closed"
	}
	items := make([]any, 3)
	for j := range items {
		items[j] = map[string]any{"item_code": fmt.Sprintf("ITEM-%d", j), "qty": j + 1, "rate": 9.5, "note": "row note"}
	}
	return map[string]any{"customer": "ACME", "order_date": "2025-01-10", "delivered_at": "2025-01-11 10:00:00",
		"qty": i, "amount": 12.5, "total": 99.95, "paid": i % 2, "status": status, "notes": "a short note",
		"remarks": "remarks", "items": items}
}

// benchSite is a fixture site with the bench DocTypes and a few customers.
func benchSite(b testing.TB, opts sitetest.Options) *sitetest.Site {
	b.Helper()
	s := sitetest.NewSite(b, opts)
	c := s.Admin()
	c.MustInsert(b, "Role", map[string]any{"role_name": "Test Reader"})
	c.MustCreateDocType(b, fixtureDocTypes[0]) // Test Customer
	for _, n := range []string{"ACME", "Globex", "Initech"} {
		c.MustInsert(b, "Test Customer", map[string]any{"customer_name": n})
	}
	c.MustCreateDocType(b, benchChild)
	c.MustCreateDocType(b, benchParent)
	return s
}

func forEachBenchStore(b *testing.B, fn func(b *testing.B, opts sitetest.Options)) {
	for _, kind := range []string{sitetest.SQLite, sitetest.Postgres} {
		b.Run(kind, func(b *testing.B) {
			if kind == sitetest.Postgres && sitetest.PostgresDSN() == "" {
				b.Skipf("PostgreSQL benchmarks are off: set %s", sitetest.EnvPostgres)
			}
			fn(b, sitetest.Options{Store: kind})
		})
	}
}

func BenchmarkSite(b *testing.B) {
	forEachBenchStore(b, func(b *testing.B, opts sitetest.Options) {
		s := benchSite(b, opts)
		raw := openRaw(b, s)
		raw.insert(b, 50) // warm up
		c := s.Admin()

		b.Run("insert", func(b *testing.B) {
			bodies := make([]map[string]any, b.N)
			for i := range bodies {
				bodies[i] = benchDoc(i)
			}
			interleaved(b, raw, func(i int) {
				r := c.Do(b, http.MethodPost, "/api/resource/Bench%20Order", bodies[i])
				if r.Status != http.StatusOK {
					b.Fatalf("insert: %s", r)
				}
			})
		})

		// Enough documents for get and list to read from.
		names := make([]string, 0, 1000)
		for i := range 1000 - min(1000, c.MustCount(b, "Bench Order", nil)) {
			c.MustInsert(b, "Bench Order", benchDoc(i))
		}
		for _, row := range c.Get(b, "/api/resource/Bench%20Order", map[string]any{"limit": 1000}).MustOK(b).Rows() {
			names = append(names, row["name"].(string))
		}
		for i := range 200 {
			d := benchDoc(i)
			d["customer"] = "Globex"
			c.MustInsert(b, "Bench Order", d)
		}

		b.Run("get", func(b *testing.B) {
			interleaved(b, raw, func(i int) {
				r := c.Do(b, http.MethodGet, "/api/resource/Bench%20Order/"+names[i%len(names)], nil)
				if r.Status != http.StatusOK {
					b.Fatalf("get: %s", r)
				}
			})
		})

		listPath := "/api/resource/Bench%20Order" + sitetest.Query(map[string]any{
			"fields": []string{"name", "customer", "qty", "status", "modified"}, "filters": [][]any{{"customer", "=", "Globex"}},
			"limit_page_length": 20})
		b.Run("list", func(b *testing.B) {
			interleaved(b, raw, func(int) {
				r := c.Do(b, http.MethodGet, listPath, nil)
				if r.Status != http.StatusOK || len(r.Rows()) != 20 {
					b.Fatalf("list: %s", r)
				}
			})
		})
	})
}

// interleaved runs op b.N times, each followed by one raw insert of the same
// rows, so that the operation and its baseline see the same machine load.
// ns/op covers both; http-ns/op is the operation alone, raw-insert-ns/op the
// baseline, and vs-raw-insert their ratio (the operation's rate as a
// fraction of the raw insert rate).
func interleaved(b *testing.B, raw *rawBench, op func(i int)) {
	b.Helper()
	var opNs, rawNs time.Duration
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		op(i)
		t1 := time.Now()
		raw.insert(b, 1)
		rawNs += time.Since(t1)
		opNs += t1.Sub(t0)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(opNs.Nanoseconds())/n, "http-ns/op")
	b.ReportMetric(float64(rawNs.Nanoseconds())/n, "raw-insert-ns/op")
	b.ReportMetric(float64(rawNs)/float64(opNs), "vs-raw-insert")
}

// rawBench is the baseline: the same rows written with database/sql by hand.
type rawBench struct {
	db     *sql.DB
	kind   string
	parent string
	child  string
	seq    int
}

func openRaw(b *testing.B, s *sitetest.Site) *rawBench {
	b.Helper()
	r := &rawBench{kind: s.Opts.Store}
	var err error
	if r.kind == sitetest.Postgres {
		r.db, err = sql.Open("pgx", sitetest.NewSchema(b))
	} else {
		// A database of its own with the site's settings (WAL, synchronous=NORMAL, one writer).
		r.db, err = sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_txlock=immediate")
		r.db.SetMaxOpenConns(1)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.db.Close() })
	intType, floatType := "INTEGER", "REAL"
	if r.kind == sitetest.Postgres {
		intType, floatType = "BIGINT", "DOUBLE PRECISION"
	}
	r.parent, r.child = "raw_order", "raw_order_item"
	std := `name TEXT NOT NULL PRIMARY KEY, owner TEXT, creation TEXT, modified TEXT, modified_by TEXT, docstatus ` + intType + ` NOT NULL DEFAULT 0, idx ` + intType + ` NOT NULL DEFAULT 0`
	for _, q := range []string{
		`CREATE TABLE raw_order (` + std + `, customer TEXT, order_date TEXT, delivered_at TEXT, qty ` + intType + ` NOT NULL DEFAULT 0,
			amount ` + floatType + ` NOT NULL DEFAULT 0, total ` + floatType + ` NOT NULL DEFAULT 0, paid ` + intType + ` NOT NULL DEFAULT 0,
			status TEXT, notes TEXT, remarks TEXT)`,
		`CREATE TABLE raw_order_item (` + std + `, parent TEXT, parentfield TEXT, parenttype TEXT, item_code TEXT,
			qty ` + intType + ` NOT NULL DEFAULT 0, rate ` + floatType + ` NOT NULL DEFAULT 0, note TEXT)`,
		`CREATE INDEX raw_order_modified ON raw_order (modified)`,
		`CREATE INDEX raw_order_customer ON raw_order (customer)`,
		`CREATE INDEX raw_order_item_parent ON raw_order_item (parent, parenttype, parentfield)`,
	} {
		if _, err := r.db.Exec(q); err != nil {
			b.Fatalf("raw schema: %v", err)
		}
	}
	return r
}

func (r *rawBench) ph(n int) string {
	if r.kind == sitetest.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

func (r *rawBench) placeholders(n int) string {
	s := ""
	for i := 1; i <= n; i++ {
		if i > 1 {
			s += ", "
		}
		s += r.ph(i)
	}
	return s
}

// insert writes n documents, one transaction each.
func (r *rawBench) insert(b *testing.B, n int) {
	b.Helper()
	ctx := context.Background()
	pq := `INSERT INTO raw_order (name, owner, creation, modified, modified_by, docstatus, idx, customer, order_date, delivered_at,
		qty, amount, total, paid, status, notes, remarks) VALUES (` + r.placeholders(17) + `)`
	cq := `INSERT INTO raw_order_item (name, owner, creation, modified, modified_by, docstatus, idx, parent, parentfield, parenttype,
		item_code, qty, rate, note) VALUES (` + r.placeholders(14) + `)`
	rnd := make([]byte, 5)
	for range n {
		r.seq++
		rand.Read(rnd)
		name := hex.EncodeToString(rnd)
		now := time.Now().Format("2006-01-02 15:04:05.000000")
		tx, err := r.db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, pq, name, "Administrator", now, now, "Administrator", 0, 0, "ACME", "2025-01-10",
			"2025-01-11 10:00:00.000000", r.seq, 12.5, 99.95, r.seq%2, "Open", "a short note", "remarks"); err != nil {
			b.Fatal(err)
		}
		for j := range 3 {
			rand.Read(rnd)
			if _, err := tx.ExecContext(ctx, cq, hex.EncodeToString(rnd), "Administrator", now, now, "Administrator", 0, j+1,
				name, "items", "Bench Order", fmt.Sprintf("ITEM-%d", j), j+1, 9.5, "row note"); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestListPlan: a filtered list on a Link field (and the default order on
// modified) is answered from an index. The plans go into docs/benchmarks.md:
//
//	go test ./internal/api -run TestListPlan -v
func TestListPlan(t *testing.T) {
	t.Parallel()
	sitetest.ForEachStore(t, func(t *testing.T, opts sitetest.Options) {
		t.Parallel()
		s := benchSite(t, opts)
		c := s.Admin()
		for i := range 300 {
			d := benchDoc(i)
			if i%50 == 0 {
				d["customer"] = "Initech"
			}
			c.MustInsert(t, "Bench Order", d)
		}
		if opts.Store == sitetest.Postgres {
			db, err := sql.Open("pgx", s.Opts.DSN)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`ANALYZE "tabBench Order"`); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name    string
			filters any
			index   string
			// costBased: PostgreSQL's planner may still prefer a sequential
			// scan of a table this small, so its plan is only logged.
			costBased bool
		}{
			{"link field", [][]any{{"customer", "=", "Initech"}}, "customer", false},
			{"link field in", [][]any{{"customer", "in", []string{"Initech", "Nobody"}}}, "customer", true},
			{"modified since", [][]any{{"modified", ">", "2999-01-01"}}, "modified", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var plan string
				err := s.App.View(context.Background(), func(tx *app.Tx) error {
					f, _ := json.Marshal(tc.filters) // as a client sends them
					q, err := tx.ListQuery(app.Admin(), app.ListArgs{DocType: "Bench Order", Filters: string(f)})
					if err != nil {
						return err
					}
					plan, err = tx.Tx.(*sqlstore.Tx).ExplainSelect(context.Background(), q)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s plan for %v:\n%s", opts.Store, tc.filters, plan)
				low := strings.ToLower(plan)
				if tc.costBased && opts.Store == sitetest.Postgres {
					return
				}
				if !strings.Contains(low, "index") || !strings.Contains(low, tc.index) {
					t.Errorf("the filter on %s does not use its index:\n%s", tc.index, plan)
				}
			})
		}
	})
}
