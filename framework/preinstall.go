package framework

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"permd/aosp/apk"
	"permd/aosp/preinstall"
	"permd/framework/protocol"
	"permd/ledger"
)

// PreinstallDir is the config subdirectory holding the registry: one JSON
// record per preinstalled app (docs/preinstall.md).
const PreinstallDir = "preinstall"

// PreinstallAppDirs are the partition folders the boot-time audit scans,
// under the service root.
var PreinstallAppDirs = []string{
	"/system/app", "/system/priv-app",
	"/product/app", "/product/priv-app",
	"/system_ext/app", "/system_ext/priv-app",
	"/vendor/app",
}

// preinstallDebounce lets a burst of file events (an app folder copied
// in, an OTA remount) settle into one scan.
const preinstallDebounce = 300 * time.Millisecond

// maxDetailMessage keeps a finding's ledger detail under the rules'
// detail size limit.
const maxDetailMessage = 600

// PreinstallStatus is the result of preinstall.status.
type PreinstallStatus struct {
	State      string               `json:"state"` // "scanning" before the first scan ends, then "done"
	ScannedAt  time.Time            `json:"scanned_at,omitzero"`
	DurationMS int64                `json:"duration_ms"`
	Scans      uint64               `json:"scans"`
	Roots      []string             `json:"roots"`    // app folders that exist, as OS paths
	Registry   PreinstallRegistry   `json:"registry"` // what the registry holds
	Summary    preinstall.Summary   `json:"summary"`
	Checks     []string             `json:"checks"` // what the audit verifies, and what it does not
	Findings   []preinstall.Finding `json:"findings"`
}

// PreinstallRegistry describes the registry in force.
type PreinstallRegistry struct {
	Records int      `json:"records"`
	Files   []string `json:"files"`
}

// preinstallAudit lists what the boot audit checks. The partitions are
// under dm-verity on a device, so the audit does not rehash whole APKs.
var preinstallAudit = []string{
	"manifest decoded from each APK",
	"v1/v2/v3/v3.1 signer certificates read; v2/v3 signatures over signed data and v1 PKCS#7 over the .SF verified; v1 entry digests when v1 is the only scheme",
	"v2/v3 content digests NOT recomputed at boot (dm-verity protects the partitions; preinstall-check verify recomputes them at build time)",
	"registry: package registered, every signer allowed, operator identity and contact, verification record, PI rules URL and shipped copy, account deletion, PI deletion path, registration and review dates",
}

// preinstallPart is the boot-time audit of Art. 29: it checks the APKs on
// the partitions against the registry shipped in the config dir, records
// each finding in the ledger, and rescans when the app folders or the
// registry change.
type preinstallPart struct {
	id     *identityPart // the uid of a finding's package
	ledger *ledgerPart   // records findings

	reg     atomic.Pointer[preinstallRegistry]
	status  atomic.Pointer[PreinstallStatus]
	kick    chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
	watcher *fsnotify.Watcher

	mu   sync.Mutex
	seen map[string]bool // finding keys recorded since start
}

type preinstallRegistry struct {
	r     *preinstall.Registry
	files []string
}

func (p *preinstallPart) name() string { return "preinstall" }

func (p *preinstallPart) prepare(s *Service, snap *Snapshot) (func(), error) {
	files := map[string][]byte{}
	names := snap.Under(PreinstallDir)
	for _, n := range names {
		b, _ := snap.File(n)
		files[n] = b
	}
	r := preinstall.Load(files)
	if len(r.Problems) > 0 {
		pr := r.Problems[0]
		return nil, &ConfigError{File: pr.File, Problem: pr.Problem}
	}
	reg := &preinstallRegistry{r: r, files: names}
	return func() {
		p.reg.Store(reg)
		p.trigger()
	}, nil
}

// trigger asks for a rescan without blocking; requests coalesce.
func (p *preinstallPart) trigger() {
	if p.kick == nil {
		return
	}
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *preinstallPart) start(ctx context.Context, s *Service) error {
	p.kick = make(chan struct{}, 1)
	p.seen = map[string]bool{}
	p.status.Store(&PreinstallStatus{State: "scanning", Roots: []string{}, Findings: []preinstall.Finding{}, Checks: preinstallAudit})
	w, err := fsnotify.NewWatcher()
	if err != nil {
		// Without inotify the audit still runs at start and on reload.
		s.Logger().Warn("preinstall: no file watcher; app folders are scanned at start and on config reload only", "err", err)
	} else {
		p.watcher = w
		for _, d := range PreinstallAppDirs {
			p.watchTree(s.Path(d))
		}
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	p.kick <- struct{}{}
	go p.loop(ctx, s)
	return nil
}

// watchTree watches an app root and its app folders (APKs sit one level
// down: /system/app/Foo/Foo.apk).
func (p *preinstallPart) watchTree(root string) {
	if p.watcher.Add(root) != nil {
		return
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.IsDir() {
			p.watcher.Add(filepath.Join(root, e.Name()))
		}
	}
}

func (p *preinstallPart) loop(ctx context.Context, s *Service) {
	defer close(p.done)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if p.watcher != nil {
		events, errs = p.watcher.Events, p.watcher.Errors
	}
	var debounce *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
			p.scan(ctx, s)
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					p.watchTree(ev.Name)
				}
			}
			if debounce == nil {
				debounce = time.NewTimer(preinstallDebounce)
			} else {
				debounce.Reset(preinstallDebounce)
			}
			fire = debounce.C
		case <-fire:
			fire = nil
			p.scan(ctx, s)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			s.Logger().Warn("preinstall: file watcher error; rescanning", "err", err)
			p.trigger()
		}
	}
}

func (p *preinstallPart) scan(ctx context.Context, s *Service) {
	reg := p.reg.Load()
	if reg == nil {
		return
	}
	start := time.Now()
	c := &preinstall.Checker{
		Registry: reg.r,
		Now:      s.Now(),
		Root:     s.opt.Root,
		Inspect:  apk.Options{SkipContentDigest: true},
		Workers:  2, // gentle at boot, still quick on a 2-core device
	}
	var roots []string
	for _, d := range PreinstallAppDirs {
		if st, err := os.Stat(s.Path(d)); err == nil && st.IsDir() {
			roots = append(roots, s.Path(d))
		}
	}
	res := &preinstall.Result{Findings: []preinstall.Finding{}}
	if len(roots) > 0 {
		r, err := c.CheckPathsContext(ctx, roots...)
		if ctx.Err() != nil {
			return // shutting down: keep the last complete scan
		}
		if err != nil {
			// A folder vanished mid-walk (an OTA remount): the next event
			// or reload rescans.
			s.Logger().Warn("preinstall: scan failed", "err", err)
		} else {
			res = r
		}
	}
	prev := p.status.Load()
	st := &PreinstallStatus{
		State:      "done",
		ScannedAt:  s.Now().UTC(),
		DurationMS: time.Since(start).Milliseconds(),
		Scans:      prev.Scans + 1,
		Roots:      append([]string{}, roots...),
		Registry:   PreinstallRegistry{Records: len(reg.r.Records), Files: reg.files},
		Summary:    res.Summary,
		Checks:     preinstallAudit,
		Findings:   res.Findings,
	}
	if st.Registry.Files == nil {
		st.Registry.Files = []string{}
	}
	p.status.Store(st)
	p.record(s, res.Findings)
	s.Logger().Info("preinstall audit", "apks", res.Summary.APKs, "passed", res.Summary.Passed, "failed", res.Summary.Failed, "warnings", res.Summary.Warnings, "ms", st.DurationMS)
}

// record enqueues each finding not recorded since start: the first scan
// records everything, later scans only what changed (an APK replaced, a
// record edited), as the published rules promise.
func (p *preinstallPart) record(s *Service, fs []preinstall.Finding) {
	var recs []ledger.Record
	p.mu.Lock()
	for _, f := range fs {
		key := findingKey(f)
		if p.seen[key] {
			continue
		}
		p.seen[key] = true
		recs = append(recs, findingRecord(s, p.id.resolver, f))
	}
	p.mu.Unlock()
	if len(recs) > 0 {
		p.ledger.l.Enqueue(recs...)
	}
}

// findingKey identifies a finding and the APK file it was made on, so a
// replaced APK with the same problem is recorded again.
func findingKey(f preinstall.Finding) string {
	stamp := ""
	if st, err := os.Stat(f.APK); err == nil {
		stamp = st.ModTime().UTC().Format(time.RFC3339Nano) + "/" + itoa64(st.Size())
	}
	return strings.Join([]string{f.APK, stamp, f.Package, f.Rule, f.Severity, f.Problem}, "\x00")
}

func itoa64(n int64) string { b, _ := json.Marshal(n); return string(b) }

func findingRecord(s *Service, r PackageResolver, f preinstall.Finding) ledger.Record {
	// Preinstalled apps belong to every user; the record names the
	// system user's uid (user 0), which is the app's uid in packages.list.
	uid := 0
	if r != nil && f.Package != "" {
		if u, ok := r.UIDOf(f.Package, 0); ok {
			uid = u
		}
	}
	msg := f.Problem
	if f.Fix != "" {
		msg += "; fix: " + f.Fix
	}
	if len(msg) > maxDetailMessage {
		msg = truncateUTF8(msg, maxDetailMessage) + "…"
	}
	detail, _ := json.Marshal(map[string]string{
		"check":     f.Rule,
		"message":   msg,
		"partition": partitionOf(s, f.APK),
		"package":   f.Package,
		"path":      devicePath(s, f.APK),
	})
	return ledger.Record{
		Time:     s.Now(),
		UID:      uid,
		Kind:     "preinstall_finding",
		Category: "preinstall",
		Result:   f.Severity,
		Detail:   detail,
	}
}

// devicePath strips the service root, so the ledger shows
// /system/app/Foo/Foo.apk on a host fixture too.
func devicePath(s *Service, p string) string {
	root := filepath.Clean(s.opt.Root)
	if root == "/" || root == "." || root == "" {
		return p
	}
	if rel, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rel, "..") {
		return "/" + filepath.ToSlash(rel)
	}
	return p
}

func partitionOf(s *Service, p string) string {
	dp := strings.TrimPrefix(devicePath(s, p), "/")
	part, _, _ := strings.Cut(dp, "/")
	return part
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xc0 != 0x80 }

func (p *preinstallPart) methods(s *Service) []Method {
	return []Method{
		{Name: protocol.MethodPreinstallStatus, Roles: Readers, Handler: p.statusMethod},
	}
}

func (p *preinstallPart) statusMethod(ctx context.Context, c *Call) (any, error) {
	var q protocol.PreinstallParams
	if len(c.Params) > 0 && string(c.Params) != "null" {
		if err := DecodeParams(c.Params, &q); err != nil {
			return nil, err
		}
	}
	switch q.Severity {
	case "", preinstall.SevOK, preinstall.SevWarn, preinstall.SevFail:
	default:
		return nil, InvalidParams("severity", "unknown severity %q (want ok, warn or fail)", q.Severity)
	}
	st := p.status.Load()
	if st == nil {
		return nil, Errorf(CodeUnavailable, "preinstall audit not started")
	}
	out := *st
	if q.Package != "" || q.Severity != "" {
		out.Findings = []preinstall.Finding{}
		for _, f := range st.Findings {
			if (q.Package == "" || f.Package == q.Package) && (q.Severity == "" || f.Severity == q.Severity) {
				out.Findings = append(out.Findings, f)
			}
		}
	}
	return wirePreinstall(out), nil
}

func (p *preinstallPart) health() map[string]any {
	st := p.status.Load()
	if st == nil {
		return map[string]any{"state": "not started"}
	}
	return map[string]any{"state": st.State, "apks": st.Summary.APKs, "failed": st.Summary.Failed, "warnings": st.Summary.Warnings, "scans": st.Scans}
}

func (p *preinstallPart) stop(s *Service) {
	if p.cancel != nil {
		p.cancel()
		<-p.done
	}
	if p.watcher != nil {
		p.watcher.Close()
	}
}
