//go:build unix

package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"docstream/internal/errs"
)

// lockSite takes the site's lock file, <dir>/site.lock, for this process: a
// SQLite site is served by one process (PostgreSQL is the store for several).
// The writer keeps the stream clock in memory (clockcache.go), which another
// process writing the same file would make wrong. The kernel releases the
// lock when the process ends, however it ends.
func lockSite(dir string) (*os.File, error) {
	path := filepath.Join(dir, "site.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errs.Unavailable("the site in %s is open in another process (or twice in this one): stop it first, or use PostgreSQL (--db) to serve one site from several processes", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
