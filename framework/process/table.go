// Package process keeps a table of the running processes from procfs
// (updated by the kernel's process connector where available, by polling
// otherwise), tells each app's state from its oom_score_adj, and turns
// process starts seen by procfs, the logd event log and the framework
// into one classified record per start: user start, self-start or
// associated start.
package process

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// ErrGone means the process exited (or its pid was reused) while it was
// being read: a normal outcome, never a failure.
var ErrGone = errors.New("process gone")

// Key identifies a process across pid reuse.
type Key struct {
	PID   int
	Start uint64 // start time, clock ticks after boot (stat field 22)
}

// Proc is one process as procfs shows it.
type Proc struct {
	PID         int    `json:"pid"`
	PPID        int    `json:"ppid"`
	UID         int    `json:"uid"`
	Start       uint64 `json:"start_ticks"`
	Name        string `json:"name"`
	OomScoreAdj int    `json:"oom_score_adj"`
	HasOom      bool   `json:"-"`
}

// nativeAdj is NATIVE_ADJ, zygote's own value. ActivityManager never
// gives it to an app process, so an app process that still has it is a
// fresh zygote child whose importance is not set yet: it says nothing
// about the app's state.
const nativeAdj = -1000

// importance returns the adj that counts for the app's state, and
// whether there is one.
func (t *Table) importance(p Proc) (int, bool) {
	if !p.HasOom || (p.OomScoreAdj == nativeAdj && t.isApp(p.UID)) {
		return 0, false
	}
	return p.OomScoreAdj, true
}

// Key returns the process identity.
func (p Proc) Key() Key { return Key{p.PID, p.Start} }

// Band names the importance band of an oom_score_adj value, after
// frameworks/base services/core/java/com/android/server/am/ProcessList.java:
//
//	FOREGROUND_APP_ADJ 0 (and the negative system/persistent values) → foreground
//	VISIBLE_APP_ADJ 100                                               → visible
//	PERCEPTIBLE_APP_ADJ 200, PERCEPTIBLE_MEDIUM 225, PERCEPTIBLE_LOW 250 → perceptible
//	BACKUP 300, HEAVY_WEIGHT 400, SERVICE 500, HOME 600, PREVIOUS 700,
//	SERVICE_B 800                                                     → service
//	CACHED_APP_MIN_ADJ 900 .. CACHED_APP_MAX_ADJ 999                  → cached
//
// ActivityManager writes the process's adj to /proc/<pid>/oom_score_adj
// (through lmkd), so the file is the same number.
func Band(adj int) string {
	switch {
	case adj <= 0:
		return "foreground"
	case adj <= 100:
		return "visible"
	case adj <= 250:
		return "perceptible"
	case adj < 900:
		return "service"
	}
	return "cached"
}

// StateOfBand maps a band to the app states the ledger and grants use:
// foreground, visible, or background (perceptible, service and cached
// processes have no UI the user is looking at).
func StateOfBand(band string) string {
	switch band {
	case "foreground", "visible":
		return band
	}
	return "background"
}

// Reader reads processes from a procfs mount.
type Reader struct {
	fs    procfs.FS
	mount string
}

// NewReader opens a procfs mount point (<root>/proc).
func NewReader(mount string) (*Reader, error) {
	f, err := procfs.NewFS(mount)
	if err != nil {
		return nil, fmt.Errorf("open procfs %s: %w", mount, err)
	}
	return &Reader{fs: f, mount: mount}, nil
}

// Mount is the procfs mount point read.
func (r *Reader) Mount() string { return r.mount }

// gone maps the errors of a vanished process to ErrGone.
func gone(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return ErrGone
	}
	return err
}

// Read reads one process fully.
func (r *Reader) Read(pid int) (Proc, error) {
	p, err := r.fs.Proc(pid)
	if err != nil {
		return Proc{}, gone(err)
	}
	st, err := p.Stat()
	if err != nil {
		return Proc{}, gone(err)
	}
	status, err := p.NewStatus()
	if err != nil {
		return Proc{}, gone(err)
	}
	out := Proc{PID: pid, PPID: st.PPID, UID: int(status.UIDs[0]), Start: st.Starttime, Name: st.Comm}
	// Android app processes rename argv[0] to the process name
	// ("com.tencent.mm:push"); comm is cut to 15 bytes.
	if cl, err := p.CmdLine(); err == nil && len(cl) > 0 && cl[0] != "" {
		out.Name = cl[0]
	}
	out.OomScoreAdj, out.HasOom = r.oom(pid)
	// The pid may have been reused between stat and the other files:
	// only trust the read if the start time is unchanged.
	if st2, err := p.Stat(); err != nil || st2.Starttime != st.Starttime {
		return Proc{}, ErrGone
	}
	return out, nil
}

// quick re-reads what changes in a known process: its start time (to
// detect reuse) and its oom_score_adj.
func (r *Reader) quick(pid int) (start uint64, adj int, hasOom bool, err error) {
	var buf [2048]byte
	b, err := readSmall(filepath.Join(r.mount, strconv.Itoa(pid), "stat"), buf[:])
	if err != nil {
		return 0, 0, false, gone(err)
	}
	start, err = statStart(b)
	if err != nil {
		return 0, 0, false, err
	}
	adj, hasOom = r.oom(pid)
	return start, adj, hasOom, nil
}

// statStart extracts field 22 (starttime) from /proc/<pid>/stat.
func statStart(b []byte) (uint64, error) {
	_, _, start, err := parseStat(b)
	return start, err
}

// parseStat extracts comm, ppid (field 4) and starttime (field 22) from
// /proc/<pid>/stat. The comm field may contain spaces and parentheses,
// so fields are counted from the last ')'.
func parseStat(b []byte) (comm string, ppid int, start uint64, err error) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	j := strings.IndexByte(s, '(')
	if i < 0 || j < 0 || j > i {
		return "", 0, 0, errors.New("stat: no comm")
	}
	comm = s[j+1 : i]
	f := strings.Fields(s[i+1:])
	// After comm: state(3) ppid(4) ... starttime(22) → index 22-3 = 19.
	if len(f) < 20 {
		return "", 0, 0, fmt.Errorf("stat: %d fields after comm", len(f))
	}
	if ppid, err = strconv.Atoi(f[1]); err != nil {
		return "", 0, 0, fmt.Errorf("stat: ppid %q", f[1])
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	return comm, ppid, start, err
}

// statusUID extracts the real uid from /proc/<pid>/status.
func statusUID(b []byte) (int, error) {
	s := string(b)
	i := strings.Index(s, "\nUid:")
	if i < 0 {
		return 0, errors.New("status: no Uid line")
	}
	f := strings.Fields(s[i+5:])
	if len(f) == 0 {
		return 0, errors.New("status: empty Uid line")
	}
	return strconv.Atoi(f[0])
}

// ReadLight reads what a process that is not an app needs (pid, ppid,
// uid, comm, start, oom_score_adj) with three small reads; isApp decides
// whether the process deserves the full Read (cmdline for its name). Kernel
// events arrive for every fork on the machine, so most reads take this
// path.
func (r *Reader) ReadLight(pid int, isApp func(int) bool) (Proc, error) {
	dir := filepath.Join(r.mount, strconv.Itoa(pid))
	var sb [2048]byte
	b, err := readSmall(dir+"/stat", sb[:])
	if err != nil {
		return Proc{}, gone(err)
	}
	comm, ppid, start, err := parseStat(b)
	if err != nil {
		return Proc{}, err
	}
	var tb [4096]byte
	b, err = readSmall(dir+"/status", tb[:])
	if err != nil {
		return Proc{}, gone(err)
	}
	uid, err := statusUID(b)
	if err != nil {
		return Proc{}, err
	}
	if isApp(uid) {
		return r.Read(pid)
	}
	p := Proc{PID: pid, PPID: ppid, UID: uid, Start: start, Name: comm}
	p.OomScoreAdj, p.HasOom = r.oom(pid)
	return p, nil
}

// readSmall reads a small procfs file with three system calls (open,
// read, close): os.ReadFile adds a poller registration attempt, an fstat
// and a second read, which dominate a rescan of hundreds of processes.
func readSmall(path string, buf []byte) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	n, err := syscall.Read(fd, buf)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return buf[:n], nil
}

func (r *Reader) oom(pid int) (int, bool) {
	var buf [32]byte
	b, err := readSmall(filepath.Join(r.mount, strconv.Itoa(pid), "oom_score_adj"), buf[:])
	if err != nil {
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false
	}
	return v, true
}

// PIDs lists the pids in the mount.
func (r *Reader) PIDs() ([]int, error) {
	d, err := os.Open(r.mount)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(names))
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil {
			out = append(out, pid)
		}
	}
	return out, nil
}

// Change is what a table update found.
type Change struct {
	Started []Proc // new processes (or a process that became an app's)
	Exited  []Proc
}

// Table is the process table. Lookups are safe from any goroutine; the
// updating methods (Refresh, Update, Remove, RefreshStates) are called
// from one goroutine, the tracker's loop.
type Table struct {
	r     *Reader
	isApp func(uid int) bool

	mu      sync.RWMutex
	procs   map[int]Proc
	uidSeen map[int]time.Time // when each uid's best band last changed
	bands   map[int]string    // uid → best band of its processes
	now     func() time.Time
}

// NewTable makes an empty table over r. isApp says which uids are apps
// (their starts are reported); nil means every uid.
func NewTable(r *Reader, isApp func(int) bool, now func() time.Time) *Table {
	if isApp == nil {
		isApp = func(int) bool { return true }
	}
	if now == nil {
		now = time.Now
	}
	return &Table{r: r, isApp: isApp, procs: map[int]Proc{}, uidSeen: map[int]time.Time{}, bands: map[int]string{}, now: now}
}

// Refresh rescans the whole mount. Known processes whose start time is
// unchanged only have their oom_score_adj re-read; new ones are read.
// Started lists only app processes; Exited lists everything gone.
func (t *Table) Refresh() (Change, error) { return t.refresh(true) }

// RefreshFast is the cheaper pass between full ones: new pids are read
// and vanished ones reported as before, but of the known processes only
// apps' (start time and oom_score_adj) and zygote's children (whose uid
// changes when an unspecialized app process becomes an app, without a
// fork) are re-read. A pid reused by a non-app process within the
// interval is caught by the next full pass.
func (t *Table) RefreshFast() (Change, error) { return t.refresh(false) }

func (t *Table) refresh(full bool) (Change, error) {
	pids, err := t.r.PIDs()
	if err != nil {
		return Change{}, err
	}
	t.mu.RLock()
	old := t.procs
	t.mu.RUnlock()
	next := make(map[int]Proc, len(pids))
	var ch Change
	for _, pid := range pids {
		p, known := old[pid]
		if known {
			switch {
			case full || t.isApp(p.UID):
				start, adj, has, err := t.r.quick(pid)
				if err != nil {
					continue // gone: reported below as exited
				}
				if start == p.Start {
					p.OomScoreAdj, p.HasOom = adj, has
					next[pid] = p
					continue
				}
			case isZygote(old[p.PPID]):
				// Re-read below: the uid may have become an app's.
			default:
				next[pid] = p
				continue
			}
		}
		n, err := t.r.ReadLight(pid, t.isApp)
		if err != nil {
			continue
		}
		next[pid] = n
		if t.isApp(n.UID) && (!known || p.Start != n.Start || !t.isApp(p.UID)) {
			ch.Started = append(ch.Started, n)
		}
	}
	for pid, p := range old {
		if n, ok := next[pid]; !ok || n.Start != p.Start {
			ch.Exited = append(ch.Exited, p)
		}
	}
	t.mu.Lock()
	t.procs = next
	t.rebandLocked()
	t.mu.Unlock()
	return ch, nil
}

// isZygote tells Android's zygote processes: their comm is "main" (the
// app_process binary renames itself), their cmdline "zygote64" or
// "zygote".
func isZygote(p Proc) bool {
	return p.PID > 0 && (p.Name == "main" || strings.HasPrefix(p.Name, "zygote"))
}

// Update re-reads one pid (after a kernel event). A process whose uid
// changed to an app's counts as started: on Android an app process is a
// zygote fork that switches to the app's uid without exec.
func (t *Table) Update(pid int) (Change, error) {
	var ch Change
	err := t.update(pid, &ch)
	t.mu.Lock()
	t.rebandLocked()
	t.mu.Unlock()
	return ch, err
}

// UpdateMany re-reads several pids and recomputes bands once.
func (t *Table) UpdateMany(pids []int) Change {
	var ch Change
	for _, pid := range pids {
		t.update(pid, &ch)
	}
	t.mu.Lock()
	t.rebandLocked()
	t.mu.Unlock()
	return ch
}

func (t *Table) update(pid int, ch *Change) error {
	p, err := t.r.ReadLight(pid, t.isApp)
	t.mu.Lock()
	defer t.mu.Unlock()
	old, had := t.procs[pid]
	if err != nil {
		if had && errors.Is(err, ErrGone) {
			delete(t.procs, pid)
			ch.Exited = append(ch.Exited, old)
		}
		return gone(err)
	}
	if had && old.Start != p.Start {
		ch.Exited = append(ch.Exited, old)
	}
	newKey := !had || old.Start != p.Start
	if t.isApp(p.UID) && (newKey || !t.isApp(old.UID)) {
		ch.Started = append(ch.Started, p)
	}
	t.procs[pid] = p
	return nil
}

// Remove drops a pid (after an exit event).
func (t *Table) Remove(pid int) (Proc, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.procs[pid]
	if ok {
		t.removeLocked(pid)
	}
	return p, ok
}

func (t *Table) removeLocked(pid int) {
	delete(t.procs, pid)
	t.rebandLocked()
}

// RefreshStates re-reads oom_score_adj of app processes only: the cheap
// periodic pass of event-driven mode, where the kernel reports forks and
// exits but not importance changes.
func (t *Table) RefreshStates() {
	t.mu.RLock()
	var apps []Proc
	for _, p := range t.procs {
		if t.isApp(p.UID) {
			apps = append(apps, p)
		}
	}
	t.mu.RUnlock()
	changed := map[int]int{}
	for _, p := range apps {
		if adj, ok := t.r.oom(p.PID); ok && adj != p.OomScoreAdj {
			changed[p.PID] = adj
		}
	}
	if len(changed) == 0 {
		return
	}
	t.mu.Lock()
	for pid, adj := range changed {
		if p, ok := t.procs[pid]; ok {
			p.OomScoreAdj, p.HasOom = adj, true
			t.procs[pid] = p
		}
	}
	t.rebandLocked()
	t.mu.Unlock()
}

// rebandLocked recomputes each uid's best band and notes when it changed.
func (t *Table) rebandLocked() {
	best := map[int]int{}
	for _, p := range t.procs {
		adj, ok := t.importance(p)
		if !ok {
			continue
		}
		if b, ok := best[p.UID]; !ok || adj < b {
			best[p.UID] = adj
		}
	}
	now := t.now()
	bands := make(map[int]string, len(best))
	for uid, adj := range best {
		b := Band(adj)
		bands[uid] = b
		if t.bands[uid] != b {
			t.uidSeen[uid] = now
		}
	}
	for uid := range t.bands {
		if _, ok := bands[uid]; !ok {
			t.uidSeen[uid] = now
		}
	}
	t.bands = bands
}

// Get returns the process with pid.
func (t *Table) Get(pid int) (Proc, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	p, ok := t.procs[pid]
	return p, ok
}

// Len is the number of processes.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.procs)
}

// List returns the processes sorted by pid; with uid >= 0 only that uid's.
func (t *Table) List(uid int) []Proc {
	t.mu.RLock()
	out := make([]Proc, 0, len(t.procs))
	for _, p := range t.procs {
		if uid < 0 || p.UID == uid {
			out = append(out, p)
		}
	}
	t.mu.RUnlock()
	slices.SortFunc(out, func(a, b Proc) int { return a.PID - b.PID })
	return out
}

// UIDBand returns the best band of uid's processes other than except
// (-1 for none), whether it has any, and when its band last changed.
func (t *Table) UIDBand(uid, except int) (band string, running bool, since time.Time) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if except < 0 {
		b, ok := t.bands[uid]
		if !ok {
			for _, p := range t.procs {
				if p.UID == uid {
					return "", true, t.uidSeen[uid]
				}
			}
		}
		return b, ok, t.uidSeen[uid]
	}
	best, found, hasOom := 0, false, false
	for _, p := range t.procs {
		if p.UID != uid || p.PID == except {
			continue
		}
		found = true
		if adj, ok := t.importance(p); ok && (!hasOom || adj < best) {
			best, hasOom = adj, true
		}
	}
	if !hasOom {
		return "", found, t.uidSeen[uid]
	}
	return Band(best), true, t.uidSeen[uid]
}
