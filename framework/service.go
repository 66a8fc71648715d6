package framework

import (
	"database/sql"
	"log/slog"
	"net"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Options is what the daemon needs to run; cmd/permd fills it from flags.
type Options struct {
	// Root prefixes every OS path the daemon reads (/proc,
	// /data/system/packages.list, /dev/socket/logdr, /sys/class/leds,
	// partition app folders): "/" on a device, a fixture tree elsewhere.
	Root string
	// DataDir holds the SQLite database.
	DataDir string
	// ConfigDir holds permd.json and the other config files. Empty means
	// the embedded default config (no reload).
	ConfigDir string
	// SocketPath is bound when Listener is nil.
	SocketPath string
	// Listener, when set, is an already listening socket (inherited from
	// init through ANDROID_SOCKET_permd).
	Listener net.Listener
	// Version is stamped by the build.
	Version string
	// Logger receives the daemon's logs; nil means slog.Default().
	Logger *slog.Logger
	// TraceArrival, when set, is told the method of each single-request
	// line and when its bytes were read from the socket. Benchmarks set
	// it to time from a request's arrival, as latency targets are
	// stated; the daemon leaves it nil.
	TraceArrival func(method string, at time.Time)
	// OnProcessDied, when set, is told every app process that exits
	// (uid, pid), and the uid once more with pid 0 when none of its
	// processes is left, after the indicator has been told. It is called
	// from the tracker's goroutines and must not block. Tests listen
	// with it; the daemon leaves it nil.
	OnProcessDied func(uid, pid int)

	// Now is the clock; nil means time.Now. Tests inject one.
	Now func() time.Time
	// TimeZone is the device's IANA zone at start ("" when unknown): on
	// a device init passes persist.sys.timezone (permd.rc); the framework
	// pushes later changes with time.zone. See docs/grants.md.
	TimeZone string

	// HoldDeferred, when set, is called with the method's name on the
	// goroutine that settles a deferred reply (an allowed perm.check
	// under a frequency cap waits for its record's commit), before it
	// waits. Tests block in it to hold such a reply back; the daemon
	// leaves it nil.
	HoldDeferred func(method string)
}

// PackageResolver maps a uid to the packages that run under it (several
// for a shared uid), and a package back to its uid for an Android user,
// from packages.list or the host-mode map. Both directions are part of
// the one interface so that a resolver cannot silently lack one (an
// optional interface found by type assertion once went unimplemented
// and every preinstall finding was recorded under uid 0).
type PackageResolver interface {
	Packages(uid int) []string
	UIDOf(pkg string, user int) (int, bool)
}

// AppStates tells the state of an app right now: "foreground",
// "visible", "background" or "not_running", and takes the framework's
// reports of it (app.state). Both are one interface for the reason
// PackageResolver is.
type AppStates interface {
	AppState(uid int) string
	ReportAppState(uid int, state string)
}

// Service is the running daemon: server, config and parts.
type Service struct {
	opt     Options
	log     *slog.Logger
	started time.Time
	db      *sql.DB
	lock    *dataDirLock // held from New to the end of Run
	storage storageState

	cfg           atomic.Pointer[coreConfig]
	snap          atomic.Pointer[Snapshot]
	server        *server
	ready         atomic.Bool
	denials       denialLog
	configLoads   atomic.Uint64
	configRejects atomic.Uint64

	// The parts, wired to each other by wire (in New).
	identity   identityPart
	ledger     ledgerPart
	grants     grantsPart
	indicator  indicatorPart
	proc       procPart
	preinstall preinstallPart
}

// wire gives every part the parts it depends on, as typed fields, in the
// order they start: identity first (who an app is, what state it is in),
// then the record (which names apps through identity), then grants
// (which records into the ledger, counts from it and reads app states),
// the indicator (which records uses), process tracking (which tells the
// indicator of deaths and records starts) and the preinstall audit.
// A part reads what a dependency built only from its own start on, when
// the dependency has started.
func (s *Service) wire() {
	s.identity = newIdentityPart()
	s.ledger = ledgerPart{id: &s.identity}
	s.grants = grantsPart{id: &s.identity, ledger: &s.ledger}
	s.indicator = indicatorPart{id: &s.identity, ledger: &s.ledger}
	s.proc = procPart{id: &s.identity, ledger: &s.ledger, indicator: &s.indicator}
	s.preinstall = preinstallPart{id: &s.identity, ledger: &s.ledger}
}

// parts lists the capabilities in start order (see wire); they stop in
// reverse order. The server accepts only after every part started.
func (s *Service) parts() []part {
	return []part{&s.identity, &s.ledger, &s.grants, &s.indicator, &s.proc, &s.preinstall}
}

// Path returns an OS path under the root: Path("/proc") is "/proc" on a
// device and "<fixture>/proc" in tests.
func (s *Service) Path(p string) string { return filepath.Join(s.opt.Root, p) }

// Now is the service clock.
func (s *Service) Now() time.Time { return s.opt.Now() }

// Logger is the service logger.
func (s *Service) Logger() *slog.Logger { return s.log }
