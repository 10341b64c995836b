package cond

import (
	"container/list"
	"sync"
)

const (
	cacheSize          = 1024 // distinct conditions kept; a site has far fewer
	maxCachedSourceLen = 4096 // longer sources are compiled every time, so the cache stays small
)

// CompileCached is Compile with a process-wide LRU cache, so a condition
// evaluated for every document compiles once. Compile errors are cached
// too: a broken condition stays broken until someone edits it, and
// recompiling it per document would only cost time. It is safe for
// concurrent use.
func CompileCached(src string) (*Program, error) {
	if len(src) > maxCachedSourceLen {
		return Compile(src)
	}
	if e, ok := programs.get(src); ok {
		return e.prog, e.err
	}
	// Compile outside the lock: two goroutines may compile the same source
	// at once, which is harmless, and no one waits on someone else's parse.
	prog, err := Compile(src)
	programs.put(&cacheEntry{src: src, prog: prog, err: err})
	return prog, err
}

var programs = newLRU(cacheSize)

type cacheEntry struct {
	src  string
	prog *Program
	err  error
}

type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *cacheEntry, most recently used first
	index map[string]*list.Element
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), index: make(map[string]*list.Element)}
}

func (c *lru) get(src string) (*cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.index[src]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry), true
}

func (c *lru) put(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.index[e.src]; ok {
		c.order.MoveToFront(el)
		return
	}
	c.index[e.src] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.index, oldest.Value.(*cacheEntry).src)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
