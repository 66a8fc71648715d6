package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"permd/aosp/wait"
	"permd/framework/frameworktest"
)

// TestStatusSaysStorageFailing: on a full disk (a 3 MiB tmpfs made by the
// test) a report fails with the storage code, and `permctl status` says
// the storage is failing and why; when space returns it says ok again.
func TestStatusSaysStorageFailing(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(data, 0o770)
	if err := unix.Mount("tmpfs", data, "tmpfs", 0, "size=3m,mode=0770"); err != nil {
		t.Skipf("cannot mount a tmpfs for a full disk (need root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(data, unix.MNT_DETACH) })
	d := frameworktest.Start(t, frameworktest.Options{Data: data})

	filler := filepath.Join(data, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for n := len(buf); n > 0; n /= 2 {
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	f.Close()

	rec := `{"uid":10123,"kind":"access","category":"contacts","result":"allowed","app_state":"background","op":"OP"}`
	var failed string
	for i := 0; i < 500 && failed == ""; i++ {
		recs := make([]string, 100)
		for j := range recs {
			recs[j] = strings.Replace(rec, "OP", strings.Repeat("o", 1+(i*100+j)%120)+string(rune('a'+j%26)), 1)
		}
		code, _, errs := permctl(t, d.Socket, "call", "ledger.report", `{"records":[`+strings.Join(recs, ",")+`]}`)
		if code != exitOK {
			failed = errs
		}
	}
	if !strings.Contains(failed, "storage is failing") || !strings.Contains(failed, "-32004") {
		t.Fatalf("report on a full disk: %q; want the storage-failing error", failed)
	}
	_, out, _ := permctl(t, d.Socket, "status")
	if !regexp.MustCompile(`(?m)^status:\s+degraded$`).MatchString(out) || !regexp.MustCompile(`(?m)^storage:\s+FAILING: `).MatchString(out) || !strings.Contains(out, "disk is full") {
		t.Errorf("status on a full disk:\n%s\nwant degraded, storage FAILING and why", out)
	}

	os.Remove(filler)
	wait.UntilSeen(t, "status ok after space returned", func() (bool, string) {
		_, out, _ = permctl(t, d.Socket, "status")
		return regexp.MustCompile(`(?m)^status:\s+ok$`).MatchString(out), out
	})
}
