package app

import (
	"crypto/sha256"
	"sync"
	"time"

	"docstream/internal/perm"
)

// authTTL is how long a verified API key (or session) is trusted without reading the
// database again. Token-authenticated requests spent over a third of an
// insert's server time re-verifying the same key; this process forgets every
// entry as soon as any User is saved or deleted, and other processes sharing
// the database see a revoked key or a changed role within authTTL.
const authTTL = 5 * time.Second

type authEntry struct {
	secret  [32]byte
	user    perm.User
	expires time.Time
}

type authCache struct {
	mu sync.Mutex
	m  map[string]authEntry
}

func (c *authCache) get(key, secret string, now time.Time) (perm.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || now.After(e.expires) || e.secret != sha256.Sum256([]byte(secret)) {
		return perm.User{}, false
	}
	return e.user, true
}

func (c *authCache) put(key, secret string, u perm.User, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]authEntry{}
	}
	c.m[key] = authEntry{secret: sha256.Sum256([]byte(secret)), user: u, expires: now.Add(authTTL)}
}

func (c *authCache) forget(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

func (c *authCache) clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
