package cond

import (
	"context"
	"fmt"
	"testing"
)

func TestSmoke(t *testing.T) {
	doc := map[string]any{"public": int64(1), "status": "Open", "grand_total": 1500.0, "items": []map[string]any{{"qty": 3}}, "disabled": 0, "name": "héllo"}
	for _, src := range []string{
		`doc.public == 1`, `doc.status in ("Open", "Replied") and doc.grand_total > 1000`, `not doc.disabled`,
		`doc.items[0].qty`, `doc.missing`, `doc.missing < 1`, `"a" * 100000000`, `str([1, 'a', None, 1.5, {"k": True}])`,
		`doc.name[1:3]`, `doc.name[-1]`, `1 < 2 < 3`, `2 ** 10`, `-7 // 2`, `-7 % 3`, `7.5 % -2`, `frappe.utils.getdate("2024-01-05 10:00")`,
		`open("x")`, `__import__("os")`, `lambda: 1`, `[x for x in y]`, `a = 1`, `doc.get("status", "x").lower()`, `1e16`, `str(1e16)`, `str(0.1)`,
		`1 if doc.x else 2`, `doc.a or "default"`, `True == 1`, `1 == 1.0`, `"ab" in "cab"`, `doc.status is None`, `doc.missing is None`,
	} {
		p, err := Compile(src)
		if err != nil {
			fmt.Printf("%-50s COMPILE ERR %v\n", src, err)
			continue
		}
		v, err := p.Eval(context.Background(), map[string]any{"doc": doc})
		fmt.Printf("%-50s %#v %v\n", src, v, err)
	}
}
