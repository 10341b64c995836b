package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter rate-limits login attempts per key (user, IP). Frappe locks a user
// after 10 failures in 60 s; we allow a burst of 10 and one attempt per 6 s
// after that, per user and per IP, and answer 429 with the reason.
type Limiter struct {
	mu    sync.Mutex
	m     map[string]*entry
	every time.Duration
	burst int
	now   func() time.Time
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter returns a limiter allowing burst attempts, then one per every.
func NewLimiter(burst int, every time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{m: map[string]*entry{}, every: every, burst: burst, now: now}
}

// Allow reports whether an attempt for key may proceed now.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.m[key]
	if e == nil {
		if len(l.m) > 10000 {
			l.sweep(now)
		}
		e = &entry{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.m[key] = e
	}
	e.seen = now
	return e.lim.AllowN(now, 1)
}

// sweep forgets keys not seen for a while so the map stays bounded.
func (l *Limiter) sweep(now time.Time) {
	for k, e := range l.m {
		if now.Sub(e.seen) > time.Duration(l.burst)*l.every {
			delete(l.m, k)
		}
	}
}
