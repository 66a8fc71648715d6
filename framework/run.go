package framework

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"permd/aosp/etc"
	"permd/ledger/store"
)

// shutdownGrace bounds how long in-flight requests may run after a stop
// signal; with storage flush after it, the daemon exits within 2 s.
const shutdownGrace = 1200 * time.Millisecond

// New checks the options, reads and validates the config, and opens the
// database. It does not listen yet.
func New(opt Options) (*Service, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Root == "" {
		opt.Root = "/"
	}
	if opt.DataDir == "" {
		return nil, errors.New("no data dir")
	}
	if opt.Listener == nil && opt.SocketPath == "" {
		return nil, errors.New("no socket: set a socket path or inherit one from init")
	}
	s := &Service{opt: opt, log: opt.Logger, started: time.Now()}
	s.wire()
	lock, err := lockDataDir(opt.DataDir)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			lock.release()
		}
	}()
	// The database opens before the config is applied: the rules check
	// against the versions already published in it.
	s.storage.path = filepath.Join(opt.DataDir, store.FileName)
	db, err := store.Open(s.storage.path)
	if err != nil {
		return nil, err
	}
	s.db = db
	defer func() {
		if !ok {
			db.Close()
		}
	}()
	snap, err := s.readConfig()
	if err != nil {
		return nil, err
	}
	if err := s.applyConfig(snap); err != nil {
		return nil, err
	}
	s.lock, ok = lock, true
	return s, nil
}

func (s *Service) config() *coreConfig { return s.cfg.Load() }

func (s *Service) configFS() (fs.FS, string) {
	if s.opt.ConfigDir == "" {
		return etc.Default(), "(embedded default)"
	}
	return dirFS(s.opt.ConfigDir), s.opt.ConfigDir
}

func (s *Service) readConfig() (*Snapshot, error) {
	fsys, label := s.configFS()
	snap, skipped, err := readSnapshotKeeping(fsys, label, s.snap.Load())
	for _, ce := range skipped {
		s.log.Error("config file refused; its previous content stays in force", "dir", label, "file", ce.File, "problem", ce.Problem)
		s.configRejects.Add(1)
	}
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", label, err)
	}
	return snap, nil
}

// applyConfig validates snap with the core and every part, and only when
// all accept it applies it. A rejected config changes nothing.
func (s *Service) applyConfig(snap *Snapshot) error {
	core, err := parseCoreConfig(snap)
	if err != nil {
		return err
	}
	var applies []func()
	for _, p := range s.parts() {
		apply, err := p.prepare(s, snap)
		if err != nil {
			return err
		}
		if apply != nil {
			applies = append(applies, apply)
		}
	}
	s.cfg.Store(core)
	for _, a := range applies {
		a()
	}
	s.snap.Store(snap)
	return nil
}

// reload rereads the config dir; unchanged bytes are a no-op, and a bad
// config is logged with its file, field and problem and not applied.
func (s *Service) reload(why string) {
	snap, err := s.readConfig()
	if err == nil && snap.equal(s.snap.Load()) {
		return
	}
	if err == nil {
		err = s.applyConfig(snap)
	}
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			s.log.Error("config rejected; previous config stays in force", "trigger", why, "file", ce.File, "field", ce.Field, "problem", ce.Problem)
		} else {
			s.log.Error("config rejected; previous config stays in force", "trigger", why, "err", err)
		}
		s.configRejects.Add(1)
		return
	}
	s.configLoads.Add(1)
	s.log.Info("config reloaded", "trigger", why, "dir", snap.Dir)
}

// Run starts every part, serves until ctx ends or SIGTERM/SIGINT arrives,
// then shuts down: stop accepting, finish in-flight requests, stop parts
// (which flushes the ledger), close the database.
func (s *Service) Run(ctx context.Context) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	defer s.lock.release()
	defer s.db.Close()

	var started []part
	stopParts := func() {
		for i := len(started) - 1; i >= 0; i-- {
			started[i].stop(s)
		}
	}
	for _, p := range s.parts() {
		if err := p.start(ctx, s); err != nil {
			stopParts()
			return fmt.Errorf("start: %w", s.nameDatabase(err))
		}
		started = append(started, p)
	}
	table := s.methodTable()

	ln := s.opt.Listener
	cleanup := func() {}
	if ln == nil {
		var err error
		ln, cleanup, err = BindSocket(s.opt.SocketPath)
		if err != nil {
			stopParts()
			return err
		}
	}
	sv, err := newServer(s, ln, table)
	if err != nil {
		ln.Close()
		cleanup()
		stopParts()
		return err
	}
	s.server = sv
	s.ready.Store(true)

	stopWatch := s.watchConfig(ctx)
	stopStorage := s.watchStorage(ctx)
	stopCheck := s.checkIntegrityAsync(ctx)
	serveErr := make(chan error, 1)
	go func() { serveErr <- sv.serve() }()
	s.log.Info("permd serving", "socket", listenerName(ln, s.opt.SocketPath), "root", s.opt.Root, "data", s.opt.DataDir, "config", s.snap.Load().Dir, "driver", store.Driver, "version", s.opt.Version)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
		if runErr != nil {
			runErr = fmt.Errorf("serve: %w", runErr)
		}
	}
	s.log.Info("permd stopping")
	stopWatch()
	stopStorage()
	stopCheck()
	shCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	sv.shutdown(shCtx)
	cancel()
	cleanup()
	stopParts()
	s.log.Info("permd stopped")
	return runErr
}

func listenerName(ln net.Listener, path string) string {
	if path != "" {
		return path
	}
	return ln.Addr().String()
}

// watchConfig reloads on SIGHUP and on changes in the config dir (and
// its subdirectories one deep, e.g. preinstall/). Events are debounced:
// an editor's save is several events, and an atomic save is a rename.
func (s *Service) watchConfig(ctx context.Context) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	var events <-chan fsnotify.Event
	var errs <-chan error
	var w *fsnotify.Watcher
	if s.opt.ConfigDir != "" {
		var err error
		w, err = fsnotify.NewWatcher()
		if err == nil {
			err = addWatchTree(w, s.opt.ConfigDir)
		}
		if err != nil {
			s.log.Warn("config watch unavailable; reload with SIGHUP", "err", err)
		} else {
			events, errs = w.Events, w.Errors
			// A change between the first read and installing the watch
			// would be missed: read once more now that we watch.
			s.reload("watch installed")
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var timer <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				s.reload("SIGHUP")
			case ev, ok := <-events:
				if !ok {
					events = nil
					continue
				}
				if ev.Has(fsnotify.Create) {
					if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() && filepath.Dir(ev.Name) == filepath.Clean(s.opt.ConfigDir) {
						w.Add(ev.Name)
					}
				}
				timer = time.After(150 * time.Millisecond)
			case err, ok := <-errs:
				if !ok {
					errs = nil
					continue
				}
				s.log.Warn("config watch error", "err", err)
			case <-timer:
				timer = nil
				s.reload("file change")
			}
		}
	}()
	return func() {
		cancel()
		signal.Stop(hup)
		<-done
		if w != nil {
			w.Close()
		}
	}
}

func addWatchTree(w *fsnotify.Watcher, dir string) error {
	if err := w.Add(dir); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := w.Add(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
