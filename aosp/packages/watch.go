package packages

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce lets a burst of events (write, chmod, rename) settle into one
// reload.
const debounce = 100 * time.Millisecond

// Watcher keeps a Table current with packages.list. The package manager
// rewrites the file whole and renames it over the old one, so the watch
// is on the directory: a watch on the file would follow the unlinked
// inode and miss every later change.
type Watcher struct {
	path     string
	fallback *Table
	log      *slog.Logger
	cur      atomic.Pointer[Table]
	last     []byte // bytes of the last load, to ignore touches
	reloads  atomic.Uint64
	cancel   context.CancelFunc
	done     chan struct{}
	closeOne sync.Once
	fromFile atomic.Bool // the current table was read from the file

	lmu       sync.Mutex
	listeners []func(*Table)
}

// Watch loads path and keeps it loaded. When the file does not exist or
// cannot be read, fallback (host mode's configured map; nil for empty)
// stands in until it appears or changes. Only a failure to create the
// watcher itself is an error.
func Watch(ctx context.Context, path string, fallback *Table, log *slog.Logger) (*Watcher, error) {
	if log == nil {
		log = slog.Default()
	}
	if fallback == nil {
		fallback = Empty()
	}
	w := &Watcher{path: path, fallback: fallback, log: log, done: make(chan struct{})}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	watching := true
	if err := fw.Add(dir); err != nil {
		// Without the directory there is nothing to watch yet (a host
		// without /data/system): serve the fallback.
		log.Info("packages.list directory not watchable; using the fallback table", "dir", dir, "err", err)
		watching = false
	}
	// Read after the watch is installed, so a rewrite between the two is
	// not missed. A file that cannot be read (a wrong SELinux label, a
	// line longer than any real one) must not stop the daemon: serve the
	// fallback, say why, and try again on the next change.
	if err := w.reload(); err != nil {
		log.Error("packages.list unreadable; serving the fallback table until it changes", "path", path, "err", err)
		w.cur.Store(fallback)
	}
	ctx, w.cancel = context.WithCancel(ctx)
	if !watching {
		fw.Close()
		close(w.done)
		return w, nil
	}
	go w.loop(ctx, fw)
	return w, nil
}

func (w *Watcher) loop(ctx context.Context, fw *fsnotify.Watcher) {
	defer close(w.done)
	defer fw.Close()
	base := filepath.Base(w.path)
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) != base {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(debounce)
			} else {
				timer.Reset(debounce)
			}
			fire = timer.C
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			// An overflowed queue may have hidden a rewrite: reload.
			w.log.Warn("packages.list watch error; reloading", "err", err)
			if err := w.reload(); err != nil {
				w.log.Error("packages.list reload failed; keeping the previous table", "err", err)
			}
		case <-fire:
			fire = nil
			if err := w.reload(); err != nil {
				w.log.Error("packages.list reload failed; keeping the previous table", "err", err)
			}
		}
	}
}

// reload reads the file and swaps the table when the bytes changed.
func (w *Watcher) reload() error {
	b, err := os.ReadFile(w.path)
	if errors.Is(err, fs.ErrNotExist) {
		if w.cur.Load() == nil {
			w.cur.Store(w.fallback)
		}
		// Between unlink and rename the file is briefly absent: keep what
		// we have rather than flap to the fallback.
		return nil
	}
	if err != nil {
		return err
	}
	if w.last != nil && bytes.Equal(b, w.last) {
		return nil
	}
	t, err := Parse(bytes.NewReader(b), w.log)
	if err != nil {
		return err
	}
	w.last = b
	w.cur.Store(t)
	w.fromFile.Store(true)
	w.reloads.Add(1)
	w.log.Info("packages.list loaded", "path", w.path, "packages", t.Len(), "skipped", t.Bad)
	w.lmu.Lock()
	ls := slices.Clone(w.listeners)
	w.lmu.Unlock()
	for _, f := range ls {
		f(t)
	}
	return nil
}

// OnChange calls f with every table read from the file after this call
// (not with the fallback), on the watcher's goroutine: f must not block
// for long. Uninstalls are seen this way: a package gone from the new
// table, or listed under another uid.
func (w *Watcher) OnChange(f func(*Table)) {
	w.lmu.Lock()
	w.listeners = append(w.listeners, f)
	w.lmu.Unlock()
}

// FromFile reports whether the current table was read from packages.list
// (false while the fallback stands in), that is whether a package
// missing from it is really not installed.
func (w *Watcher) FromFile() bool { return w.fromFile.Load() }

// Table returns the current table.
func (w *Watcher) Table() *Table { return w.cur.Load() }

// Packages implements the framework's package resolver.
func (w *Watcher) Packages(uid int) []string { return w.cur.Load().Packages(uid) }

// UIDOf returns the uid of pkg for an Android user.
func (w *Watcher) UIDOf(pkg string, user int) (int, bool) { return w.cur.Load().UIDOf(pkg, user) }

// Reloads counts loads that changed the table.
func (w *Watcher) Reloads() uint64 { return w.reloads.Load() }

// Close stops watching; the last table stays readable.
func (w *Watcher) Close() {
	w.closeOne.Do(func() {
		if w.cancel != nil {
			w.cancel()
		}
		<-w.done
	})
}
