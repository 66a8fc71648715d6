package process

import (
	"os/exec"
	"testing"
	"time"
)

// openConnectorOrSkip opens the real process connector, skipping loudly
// where the kernel or the sandbox refuses it.
func openConnectorOrSkip(t testing.TB) *Connector {
	t.Helper()
	c, err := OpenConnector()
	if err != nil {
		t.Skipf("SKIP (not a pass): the netlink process connector is unavailable here (needs CAP_NET_ADMIN and CONFIG_PROC_EVENTS): %v", err)
	}
	return c
}

func TestConnectorSeesForkExecExitOfRealProcess(t *testing.T) {
	c := openConnectorOrSkip(t)
	defer c.Close()
	got := make(chan KernelEvent, 4096)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			evs, err := c.Read(buf, nil)
			if err != nil {
				close(got)
				return
			}
			for _, e := range evs {
				got <- e
			}
		}
	}()
	cmd := exec.Command("sleep", "0.2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	cmd.Wait()
	seen := map[EventKind]bool{}
	deadline := time.After(5 * time.Second)
	for !(seen[EvFork] && seen[EvExec] && seen[EvExit]) {
		select {
		case e, ok := <-got:
			if !ok {
				t.Fatal("connector closed")
			}
			if e.PID == pid {
				seen[e.Kind] = true
			}
		case <-deadline:
			t.Fatalf("events for pid %d: saw %v, want fork, exec and exit", pid, seen)
		}
	}
	c.Close()
}
