package stream

import "testing"

// TestBroadcast: Fire wakes every channel Wait gave out before it, and none
// given out after it, whether or not anybody waited before (the channel is
// made only when somebody waits).
func TestBroadcast(t *testing.T) {
	closed := func(c <-chan struct{}) bool {
		t.Helper()
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	b := newBroadcast()
	b.Fire() // nobody waits: nothing to wake, and no panic
	w1, w2 := b.Wait(), b.Wait()
	if closed(w1) || closed(w2) {
		t.Fatal("a wait ended before any Fire")
	}
	b.Fire()
	if !closed(w1) || !closed(w2) {
		t.Fatal("Fire left a waiter waiting")
	}
	w3 := b.Wait()
	if closed(w3) {
		t.Fatal("a wait begun after Fire ended at once")
	}
	b.Fire()
	b.Fire()
	if !closed(w3) {
		t.Fatal("the next Fire left a waiter waiting")
	}
	if closed(b.Wait()) {
		t.Fatal("a wait begun after two Fires ended at once")
	}
}
