package cond

import (
	"context"
	"encoding/json"
	"math"
	"time"
)

// fixedNow is the clock every test uses, so no result depends on the wall clock.
var fixedNow = time.Date(2024, 6, 30, 23, 30, 0, 0, time.UTC)

func testCtx() context.Context {
	return WithNow(context.Background(), func() time.Time { return fixedNow })
}

// testDoc is a Sales Order-like document as the producer would hand it over.
func testDoc() map[string]any {
	return map[string]any{
		"doctype":        "Sales Order",
		"name":           "SO-0001",
		"public":         int64(1),
		"status":         "Open",
		"grand_total":    1500.0,
		"qty":            int64(12),
		"customer_group": "Commercial",
		"territory":      "India",
		"customer_name":  "Acme",
		"country":        "Germany",
		"disabled":       int64(0),
		"enabled":        int64(1),
		"rate":           0.0,
		"remarks":        "",
		"notes":          nil,
		"tags":           []any{"urgent", "vip"},
		"empty_list":     []any{},
		"meta":           map[string]any{"owner": "admin"},
		"empty_map":      map[string]any{},
		"posting_date":   "2024-03-15",
		"modified":       "2024-03-15 10:20:30.123456",
		"title":          "  Hello World  ",
		"unicode":        "héllo",
		"big":            int64(math.MaxInt64),
		"items": []map[string]any{
			{"item_code": "A", "qty": int64(2), "rate": 10.5},
			{"item_code": "B", "qty": int64(5), "rate": 3.0},
		},
		"taxes": []any{map[string]any{"rate": 18.0}},
	}
}

type status string

// driverDoc holds the Go types that JSON and SQL drivers produce, which must
// behave like their Python counterparts.
func driverDoc() map[string]any {
	return map[string]any{
		"i":    5,
		"i32":  int32(5),
		"u8":   uint8(5),
		"f32":  float32(2.5),
		"num":  json.Number("7"),
		"numf": json.Number("7.5"),
		"date": time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC),
		"dt":   time.Date(2024, 3, 15, 10, 20, 30, 0, time.UTC),
		"st":   status("Open"),
		"strs": []string{"a", "b"},
		"smap": map[string]string{"k": "v"},
		"ints": []int{1, 2},
		"rows": []any{map[string]any{"qty": 1}, map[string]any{"qty": 2}},
	}
}
