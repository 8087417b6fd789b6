package postgres

import (
	"context"
	"time"
)

// LoginFailureCount is one key's failed logins in a window: how many, and
// when the last one was.
type LoginFailureCount struct {
	Count int
	Last  time.Time
}

// LoginFailures counts the failed logins of each key since since.
func (a *Admin) LoginFailures(ctx context.Context, keys []string, since time.Time) (map[string]LoginFailureCount, error) {
	var rows []struct {
		Key  string
		N    int
		Last time.Time
	}
	err := retryConnLost(func() error {
		rows = rows[:0]
		return a.db.WithContext(ctx).Raw(`SELECT key, count(*) AS n, max(at) AS last FROM login_failures
			WHERE key IN ? AND at > ? GROUP BY key`, keys, since).Scan(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	out := map[string]LoginFailureCount{}
	for _, r := range rows {
		out[r.Key] = LoginFailureCount{Count: r.N, Last: r.Last}
	}
	return out, nil
}

// AddLoginFailure records a failed login against each key, and deletes
// failures older than before (the window), so the table stays small.
func (a *Admin) AddLoginFailure(ctx context.Context, keys []string, at, before time.Time) error {
	db := a.db.WithContext(ctx)
	for _, k := range keys {
		if err := db.Exec(`INSERT INTO login_failures(key, at) VALUES (?, ?)`, k, at).Error; err != nil {
			return err
		}
	}
	return db.Exec(`DELETE FROM login_failures WHERE at < ?`, before).Error
}

// ClearLoginFailures forgets a key's failures (after a successful login).
func (a *Admin) ClearLoginFailures(ctx context.Context, key string) error {
	return a.db.WithContext(ctx).Exec(`DELETE FROM login_failures WHERE key = ?`, key).Error
}
