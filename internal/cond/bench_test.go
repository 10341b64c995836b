package cond

import (
	"context"
	"testing"
)

const benchSrc = `doc.public == 1 and doc.status in ("Open","Replied") and doc.qty > 10`

func BenchmarkMatch(b *testing.B) {
	p, err := Compile(benchSrc)
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]any{"doc": testDoc()}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ok, err := p.Match(ctx, env)
		if !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkCompileCached(b *testing.B) {
	if _, err := CompileCached(benchSrc); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CompileCached(benchSrc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile is the uncached cost, to show what the cache saves.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(benchSrc); err != nil {
			b.Fatal(err)
		}
	}
}
