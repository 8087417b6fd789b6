package api

import (
	"sync"
	"time"

	"github.com/ctid/ctid/cti/postgres"
)

// sessionTTL is how long a token lookup is trusted without asking Postgres
// again. Every REST request authenticates, and CRM pages poll: at 500
// requests a second the lookup was a third of a core (BenchmarkLoad).
// Logout and admin changes to users empty the cache at once in this
// process; a revocation made through another ctid instance takes effect
// here within sessionTTL.
const sessionTTL = 2 * time.Second

// sessionCacheMax bounds the cache; past it, it starts again empty.
const sessionCacheMax = 100_000

type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedSession
}

type cachedSession struct {
	acc     postgres.Account
	expires time.Time // the session's own expiry
	until   time.Time // when this entry must be checked again
}

func newSessionCache() *sessionCache { return &sessionCache{m: map[string]cachedSession{}} }

func (c *sessionCache) get(tokenHash string, now time.Time) (postgres.Account, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[tokenHash]
	if !ok || !now.Before(e.until) || !now.Before(e.expires) {
		return postgres.Account{}, time.Time{}, false
	}
	return e.acc, e.expires, true
}

func (c *sessionCache) put(tokenHash string, acc postgres.Account, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= sessionCacheMax {
		clear(c.m)
	}
	c.m[tokenHash] = cachedSession{acc: acc, expires: expires, until: now.Add(sessionTTL)}
}

func (c *sessionCache) drop(tokenHash string) {
	c.mu.Lock()
	delete(c.m, tokenHash)
	c.mu.Unlock()
}

func (c *sessionCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
