package process

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

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
