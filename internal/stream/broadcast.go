package stream

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
)

// broadcast wakes every waiter at once: closing a channel is a broadcast that
// cannot be lost, and a fresh channel serves the next round.
type broadcast struct {
	mu sync.Mutex
	// ch is made by the first Wait after a Fire: a producer fires on every
	// logged commit, mostly with nobody waiting, and a channel made each
	// time was one of the allocations the log adds to a write.
	ch chan struct{}
}

func newBroadcast() *broadcast { return &broadcast{} }

// Wait returns a channel closed at the next Fire.
func (b *broadcast) Wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// Fire wakes all current waiters.
func (b *broadcast) Fire() {
	b.mu.Lock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
	b.mu.Unlock()
}

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
