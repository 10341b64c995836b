package cond

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestParseCondition(t *testing.T) {
	cases := []struct {
		name, in, cmd, expr string
		isCmd               bool
	}{
		{"cmd", "cmd: myapp.conditions.is_public", "myapp.conditions.is_public", "", true},
		{"cmd without space", "cmd:a.b", "a.b", "", true},
		{"cmd with surrounding space", "  cmd:  a.b  ", "a.b", "", true},
		{"expression", "doc.public == 1", "", "doc.public == 1", false},
		{"expression trimmed", "  doc.public == 1\n", "", "doc.public == 1", false},
		{"empty", "", "", "", false},
		{"cmd inside expression", `doc.x == "cmd: a"`, "", `doc.x == "cmd: a"`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd, expr, isCmd := ParseCondition(c.in)
			if cmd != c.cmd || expr != c.expr || isCmd != c.isCmd {
				t.Errorf("ParseCondition(%q) = %q, %q, %v; want %q, %q, %v", c.in, cmd, expr, isCmd, c.cmd, c.expr, c.isCmd)
			}
		})
	}
}

func TestParseEval(t *testing.T) {
	if expr, ok := ParseEval(`eval:doc.customer_name + " " + doc.country`); !ok || expr != `doc.customer_name + " " + doc.country` {
		t.Errorf("ParseEval(eval:…) = %q, %v", expr, ok)
	}
	if v, ok := ParseEval("India"); ok || v != "India" {
		t.Errorf("ParseEval(plain) = %q, %v", v, ok)
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	r.Register("myapp.is_public", func(_ context.Context, args map[string]any) (any, error) {
		doc, _ := args["doc"].(map[string]any)
		return doc["public"], nil
	})
	r.Register("myapp.fails", func(context.Context, map[string]any) (any, error) {
		return nil, errors.New("db down")
	})
	r.Register("myapp.panics", func(context.Context, map[string]any) (any, error) {
		panic("boom")
	})
	if _, ok := r.Lookup("myapp.is_public"); !ok {
		t.Error("Lookup of a registered name failed")
	}
	if _, ok := r.Lookup("myapp.nope"); ok {
		t.Error("Lookup of an unregistered name succeeded")
	}
	if got, want := r.Names(), []string{"myapp.fails", "myapp.is_public", "myapp.panics"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}

	args := map[string]any{"consumer": "c1", "doc": testDoc(), "update_log": "log1"}
	cases := []struct {
		name, condition string
		want            bool
		wantErr         string
	}{
		{"no condition", "", true, ""},
		{"expression true", "doc.public == 1", true, ""},
		{"expression false", "doc.public == 2", false, ""},
		{"expression sees only doc", "consumer", false, "NameError"},
		{"expression syntax error", "doc.public ==", false, "unexpected end of input"},
		{"cmd truthy", "cmd: myapp.is_public", true, ""},
		{"cmd error", "cmd: myapp.fails", false, "db down"},
		{"cmd panic", "cmd: myapp.panics", false, "panicked: boom"},
		{"cmd unknown", "cmd: frappe.get_doc", false, `unknown cmd "frappe.get_doc"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := r.Match(testCtx(), c.condition, args)
			if got != c.want {
				t.Errorf("Match(%q) = %v, want %v (err %v)", c.condition, got, c.want, err)
			}
			if (err != nil) != (c.wantErr != "") || err != nil && !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Match(%q) error = %v, want %q", c.condition, err, c.wantErr)
			}
		})
	}
}

func TestRegisterRefusesMistakes(t *testing.T) {
	f := func(context.Context, map[string]any) (any, error) { return true, nil }
	cases := []struct {
		name  string
		reg   string
		f     Func
		setup bool // register reg once first
	}{
		{"empty name", "", f, false},
		{"bad name", "a..b", f, false},
		{"name with space", "a b", f, false},
		{"nil func", "a.b", nil, false},
		{"duplicate", "a.b", f, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRegistry()
			if c.setup {
				r.Register(c.reg, f)
			}
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", c.reg)
				}
			}()
			r.Register(c.reg, c.f)
		})
	}
}

func TestRegistryConcurrent(t *testing.T) {
	r := NewRegistry()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "app.f" + string(rune('a'+i))
			r.Register(name, func(context.Context, map[string]any) (any, error) { return 1, nil })
			for range 100 {
				if _, err := r.Match(testCtx(), "cmd: "+name, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
