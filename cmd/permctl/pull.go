//go:build !android

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"permd/aosp/adb"
)

// maxPullAttempts bounds how often a pull starts over because the
// database changed under it. permd checkpoints at most every 2 s, and a
// pull of a phone's ledger takes well under that on USB, so more than a
// few attempts means something else keeps writing the file.
const maxPullAttempts = 5

// pulled says what pullDatabase copied.
type pulled struct {
	db, wal  int64 // bytes; wal is -1 when the device had no -wal file
	attempts int
}

// pullDatabase copies a live SQLite database and its -wal file so that
// the two belong together. They are copied one after the other; if
// permd checkpoints in between, the copy would pair the old database
// with a WAL that restarted after the checkpoint, and the copy would
// miss committed records or even its tables. So the database is read a
// second time after the WAL and compared: if it changed, the pull starts
// over. Records committed after the WAL was read are not in the copy,
// and never half: SQLite ignores an incomplete WAL frame. between, when
// not nil, runs after each WAL copy (tests change the file there).
func pullDatabase(ctx context.Context, c *adb.Conn, remote, local string, between func()) (pulled, error) {
	var p pulled
	for p.attempts = 1; p.attempts <= maxPullAttempts; p.attempts++ {
		n, sum, err := c.PullFileSum(ctx, remote, local)
		if err != nil {
			return p, err
		}
		p.db = n
		// A -wal or -shm left from an earlier pull would be applied to
		// this copy.
		for _, stale := range []string{local + "-wal", local + "-shm"} {
			if err := os.Remove(stale); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return p, fmt.Errorf("remove %s: %w", stale, err)
			}
		}
		p.wal, err = c.PullFile(ctx, remote+"-wal", local+"-wal")
		switch {
		case errors.Is(err, fs.ErrNotExist):
			p.wal = -1
		case err != nil:
			return p, fmt.Errorf("pull the -wal file: %w", err)
		}
		if between != nil {
			between()
		}
		again, err := c.Sum(ctx, remote)
		if err != nil {
			return p, fmt.Errorf("read %s again: %w", remote, err)
		}
		if again == sum {
			return p, nil
		}
	}
	p.attempts = maxPullAttempts
	return p, fmt.Errorf("%s changed during each of %d pulls (checkpoints by permd are at most every 2 s; is something else writing it?)", remote, maxPullAttempts)
}
