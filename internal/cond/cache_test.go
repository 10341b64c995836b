package cond

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestCompileCached(t *testing.T) {
	a, err := CompileCached("doc.public == 1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := CompileCached("doc.public == 1")
	if a != b {
		t.Error("the same source compiled twice")
	}
	_, err1 := CompileCached("doc.public ==")
	_, err2 := CompileCached("doc.public ==")
	if err1 == nil || err1 != err2 {
		t.Errorf("compile errors not cached: %v, %v", err1, err2)
	}
	long := "1" + strings.Repeat(" or 1", maxCachedSourceLen)
	c, err := CompileCached(long)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := CompileCached(long); c == d {
		t.Error("a source over maxCachedSourceLen was cached")
	}
}

func TestLRUEvicts(t *testing.T) {
	c := newLRU(2)
	c.put(&cacheEntry{src: "a"})
	c.put(&cacheEntry{src: "b"})
	c.get("a") // a is now the most recent, so b goes first
	c.put(&cacheEntry{src: "c"})
	if _, ok := c.get("b"); ok {
		t.Error("b survived eviction")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s was evicted", k)
		}
	}
	if c.len() != 2 {
		t.Errorf("len = %d, want 2", c.len())
	}
}

// TestConcurrentUse shares compiled programs and the cache between
// goroutines; run with -race it checks that Program and the cache are safe
// for concurrent use.
func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				src := fmt.Sprintf("doc.qty > %d and doc.status in ('Open', 'Replied')", (g*200+i)%50)
				p, err := CompileCached(src)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := p.Match(testCtx(), map[string]any{"doc": testDoc()}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := programs.len(); n > cacheSize {
		t.Errorf("cache holds %d entries, over its bound %d", n, cacheSize)
	}
}
