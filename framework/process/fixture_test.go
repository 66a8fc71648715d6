package process

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"permd/aosp/logd"
)

// fixtureProc is one process in a fixture /proc tree.
type fixtureProc struct {
	pid, ppid, uid int
	start          uint64
	comm, cmdline  string // cmdline "" = kernel thread (empty file)
	oom            int
}

// writeProc writes the files the reader uses, in the kernel's formats
// (proc(5)): stat with a comm that may hold spaces and parentheses,
// status with tab-separated Uid/Gid lines, NUL-separated cmdline.
func writeProc(t testing.TB, root string, p fixtureProc) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(p.pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := fmt.Sprintf("%d (%s) S %d %d %d 0 -1 1077952832 1234 0 12 0 41 17 0 0 20 0 12 0 %d 2293760000 21000 18446744073709551615 1 1 0 0 0 0 4612 1 1073775864 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
		p.pid, p.comm, p.ppid, p.pid, p.pid, p.start)
	status := fmt.Sprintf("Name:\t%s\nUmask:\t0077\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\nUid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t128\nGroups:\t3003 9997 20123 50123\nVmRSS:\t  84000 kB\nThreads:\t12\n",
		p.comm, p.pid, p.pid, p.ppid, p.uid, p.uid, p.uid, p.uid, p.uid, p.uid, p.uid, p.uid)
	cmd := ""
	if p.cmdline != "" {
		cmd = strings.ReplaceAll(p.cmdline, " ", "\x00") + "\x00"
	}
	files := map[string]string{"stat": stat, "status": status, "cmdline": cmd, "oom_score_adj": strconv.Itoa(p.oom) + "\n"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func setOom(t testing.TB, root string, pid, oom int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, strconv.Itoa(pid), "oom_score_adj"), []byte(strconv.Itoa(oom)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeProc(t testing.TB, root string, pid int) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(root, strconv.Itoa(pid))); err != nil {
		t.Fatal(err)
	}
}

// androidFixture is a small phone: init, zygote64, system_server, a
// foreground app, a cached app with a second process, a shared-uid
// system app.
func androidFixture(t testing.TB) string {
	root := filepath.Join(t.TempDir(), "proc")
	for _, p := range []fixtureProc{
		{1, 0, 0, 3, "init", "/system/bin/init second_stage", -1000},
		{2, 0, 0, 3, "kthreadd", "", 0},
		{610, 1, 0, 900, "main", "zygote64", -1000},
		{1020, 610, 1000, 1400, "system_server", "system_server", -900},
		{3100, 610, 10113, 50000, "ndroid.chrome", "com.android.chrome", 0},
		{3300, 610, 10078, 52000, "com.tencent.mm", "com.tencent.mm", 905},
		{3301, 610, 10078, 52100, "ncent.mm:push", "com.tencent.mm:push", 250},
		{2200, 610, 1000, 20000, "droid.settings", "com.android.settings", 915},
		{4000, 3100, 10113, 60000, "weird (name) x", "", 0},
	} {
		writeProc(t, root, p)
	}
	return root
}

func logdEvent(tag int32, v any) logd.Event {
	return logd.Event{Time: time.Unix(1000, 0), Tag: tag, Name: logd.BuiltinTags[tag], Value: v}
}
