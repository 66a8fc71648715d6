package process

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/prometheus/procfs"
)

// ErrGone means the process exited (or its pid was reused) while it was
// being read: a normal outcome, never a failure.
var ErrGone = errors.New("process gone")

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
