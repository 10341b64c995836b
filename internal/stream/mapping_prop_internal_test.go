package stream

import (
	"context"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"docstream/internal/doc"
	"docstream/internal/meta"
)

func mustMeta(t *rapid.T, js string) *meta.DocType {
	dt, err := meta.ParseJSON([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return dt
}

// Mapping a document and then its diff gives the same result as mapping the
// new version (renames, defaults and a Child Table mapping).
func TestMappingDiffProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		remoteLine := mustMeta(t, `{"name":"Remote Line","istable":1,"fields":[{"fieldname":"product_code","fieldtype":"Data"},{"fieldname":"quantity","fieldtype":"Float"}]}`)
		remote := mustMeta(t, `{"name":"Remote","fields":[{"fieldname":"a","fieldtype":"Data"},{"fieldname":"b","fieldtype":"Int"},{"fieldname":"stage","fieldtype":"Data"},{"fieldname":"lines","fieldtype":"Table","options":"Remote Line"}]}`)
		local := mustMeta(t, `{"name":"Opp","fields":[{"fieldname":"title","fieldtype":"Data"},{"fieldname":"amount","fieldtype":"Int"},{"fieldname":"status","fieldtype":"Data"},{"fieldname":"items","fieldtype":"Table","options":"Opp Item"}]}`)
		metaOf := func(n string) (*meta.DocType, error) {
			switch n {
			case "Remote Line":
				return remoteLine, nil
			case "Opp Item":
				return mustMeta(t, `{"name":"Opp Item","istable":1,"fields":[{"fieldname":"item","fieldtype":"Data"},{"fieldname":"qty","fieldtype":"Float"}]}`), nil
			}
			return nil, fmt.Errorf("no %s", n)
		}
		inner := &mapping{name: "line", local: "Opp Item", remote: "Remote Line",
			fields: []fieldMap{{local: "item", remote: "product_code"}, {local: "qty", remote: "quantity"}}}
		m := &mapping{name: "opp", local: "Opp", remote: "Remote", fields: []fieldMap{
			{local: "title", remote: "a"}, {local: "amount", remote: "b"}, {local: "status", remote: "stage", def: "Open"},
			{local: "items", remote: "lines", kind: "Child Table", inner: inner}}}

		text := rapid.SampledFrom([]any{nil, "", "x", "y", "long text"})
		rowNames := []string{"r1", "r2", "r3", "r4"}
		genDoc := func(label string) doc.Doc {
			d := doc.Doc{"name": "R-1", "docstatus": int64(0), "a": text.Draw(t, label+"a"), "b": int64(rapid.IntRange(0, 3).Draw(t, label+"b")),
				"stage": text.Draw(t, label+"stage")}
			names := rapid.Permutation(rowNames).Draw(t, label+"rows")[:rapid.IntRange(0, 4).Draw(t, label+"n")]
			var rows []doc.Doc
			for i, n := range names {
				rows = append(rows, doc.Doc{"name": n, "idx": int64(i + 1), "product_code": text.Draw(t, label+n+"p"),
					"quantity": float64(rapid.IntRange(0, 5).Draw(t, label+n+"q")), "doctype": "Remote Line"})
			}
			d["lines"] = rows
			return d
		}
		old, new := genDoc("old."), genDoc("new.")
		s := &Streamer{}
		ctx := context.Background()
		mOld, err := s.mapDoc(ctx, nil, nil, nil, m, old, true)
		if err != nil {
			t.Fatal(err)
		}
		mNew, err := s.mapDoc(ctx, nil, nil, nil, m, new, true)
		if err != nil {
			t.Fatal(err)
		}
		u, err := doc.Diff(remote, metaOf, old, new)
		if err != nil {
			t.Fatal(err)
		}
		mu, err := s.mapUpdate(ctx, nil, nil, nil, m, u)
		if err != nil {
			t.Fatal(err)
		}
		got, err := doc.Apply(local, mOld, mu)
		if err != nil {
			t.Fatal(err)
		}
		norm := func(v any) any {
			if v == nil {
				return ""
			}
			return v
		}
		for _, f := range []string{"title", "amount", "status"} {
			if norm(got[f]) != norm(mNew[f]) {
				t.Fatalf("%s: via diff %v, mapping the new version %v", f, got[f], mNew[f])
			}
		}
		gr, wr := got.Rows("items"), mNew.Rows("items")
		if len(gr) != len(wr) {
			t.Fatalf("rows: via diff %v, want %v", gr, wr)
		}
		for i := range gr {
			for _, f := range []string{"name", "item", "qty"} {
				if norm(gr[i][f]) != norm(wr[i][f]) {
					t.Fatalf("row %d %s: via diff %v, want %v", i, f, gr[i][f], wr[i][f])
				}
			}
		}
	})
}
