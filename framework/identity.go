package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"permd/aosp/packages"
	"permd/framework/process"
)

// identityPart answers who an app is and what it is doing for every
// other part: the package resolver (packages.list, or process.json's
// host_packages on a host) and the app-state table (the process
// tracker's states once process tracking runs, the framework's app.state
// reports before and without it). It starts first, so that every part
// after it names apps through a resolver that no longer changes.
type identityPart struct {
	// resolver is what the other parts resolve packages with; nil when
	// there is no identity source, which the others must read as "not
	// known" and not as "nothing is installed". states is the app-state
	// table they read and report into. Both are final once start
	// returns; a test may set either before start, and start keeps it.
	resolver PackageResolver
	states   AppStates

	host  atomic.Pointer[map[int][]string] // process.json's host_packages, as last applied
	pkgs  *packages.Watcher                // packages.list; nil before start
	table *appStates                       // own table; process tracking attaches its tracker
	// hostApps are the host_packages uids at start, which count as apps
	// when there is no packages.list file (nil then otherwise).
	hostApps map[int][]string
	cancel   context.CancelFunc
}

func newIdentityPart() identityPart {
	return identityPart{table: &appStates{reported: map[int]string{}}}
}

// The package watcher is the service's package resolver on a device, and
// the app-state table its app states: checked here so that a change to
// either side fails the build rather than the wiring.
var (
	_ PackageResolver = (*packages.Watcher)(nil)
	_ AppStates       = (*appStates)(nil)
)

func (p *identityPart) name() string { return "identity" }

// prepare takes host_packages from process.json, whose validation the
// proc part shares (both parse the same small file; either refuses it
// with the same error).
func (p *identityPart) prepare(s *Service, snap *Snapshot) (func(), error) {
	cfg, err := processConfig(snap)
	if err != nil {
		return nil, err
	}
	return func() { p.host.Store(&cfg.Host) }, nil
}

func (p *identityPart) start(ctx context.Context, s *Service) error {
	log := s.log.With("part", "identity")
	var host map[int][]string
	if h := p.host.Load(); h != nil {
		host = *h
	}
	ctx, p.cancel = context.WithCancel(context.Background())
	listPath := s.Path("/data/system/packages.list")
	w, err := packages.Watch(ctx, listPath, packages.FromMap(host), log)
	if err != nil {
		p.cancel()
		return fmt.Errorf("packages: %w", err)
	}
	p.pkgs = w
	if _, err := os.Stat(listPath); err != nil {
		p.hostApps = host
	}
	// Publish the resolver only when there is an identity source: the
	// package manager's directory (on a device it exists from early boot,
	// even before the first packages.list is written) or a host map.
	if p.resolver == nil {
		if fi, err := os.Stat(filepath.Dir(listPath)); (err == nil && fi.IsDir()) || len(host) > 0 {
			p.resolver = w
		} else {
			log.Info("no package identity source (no packages.list directory, no host_packages); packages stay unresolved", "path", listPath)
		}
	}
	if p.states == nil {
		p.states = p.table
	}
	return nil
}

// isApp reports whether uid is an app's: an Android app uid, or on a host
// a uid host_packages lists.
func (p *identityPart) isApp(uid int) bool {
	if packages.IsApp(uid) {
		return true
	}
	_, ok := p.hostApps[uid]
	return ok
}

func (p *identityPart) stop(s *Service) {
	if p.cancel != nil {
		p.cancel()
	}
	if p.pkgs != nil {
		p.pkgs.Close()
	}
}

func (p *identityPart) methods(s *Service) []Method { return nil }

// health is nil: the package count is shown with process tracking's
// figures, where it has always been.
func (p *identityPart) health() map[string]any { return nil }

// appStates is the app-state table: the process tracker's states once
// process tracking attached a tracker, else the framework's app.state
// reports.
type appStates struct {
	tracker atomic.Pointer[process.Tracker]

	mu       sync.Mutex
	reported map[int]string // app.state reports, used without a tracker
}

// AppState implements AppStates.
func (a *appStates) AppState(uid int) string {
	if tr := a.tracker.Load(); tr != nil {
		return tr.AppState(uid)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reported[uid]
}

// ReportAppState implements AppStates: a framework app.state report.
func (a *appStates) ReportAppState(uid int, state string) {
	if tr := a.tracker.Load(); tr != nil {
		tr.ReportAppState(uid, state)
	}
	a.mu.Lock()
	a.reported[uid] = state
	a.mu.Unlock()
}
