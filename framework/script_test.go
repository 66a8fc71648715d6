package framework

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"permd/framework/client"
)

// envScript holds the steps a "script" child runs: real calls from a
// process with other credentials, on as many connections as the steps
// name, for tests that need more than one empty-params call per method.
const envScript = "PERMD_TEST_SCRIPT"

// scriptStep is one call (repeated Repeat times) on connection Conn.
type scriptStep struct {
	Conn   int             `json:"conn"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
	Repeat int             `json:"repeat,omitempty"`
}

// scriptResult is the outcome of one call: Code 0 and the result, or the
// error code and message.
type scriptResult struct {
	Code    int             `json:"code"`
	Message string          `json:"message,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
}

// childScript runs the steps, prints one JSON line with the results per
// step, then keeps its connections (and their subscriptions) open until
// its stdin closes.
func childScript() int {
	var steps []scriptStep
	if err := json.Unmarshal([]byte(os.Getenv(envScript)), &steps); err != nil {
		fmt.Fprintln(os.Stderr, "script:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conns := map[int]*client.Client{}
	out := make([][]scriptResult, len(steps))
	for i, st := range steps {
		c := conns[st.Conn]
		if c == nil {
			var err error
			if c, err = client.Dial(ctx, os.Getenv(envSocket)); err != nil {
				fmt.Fprintln(os.Stderr, "dial:", err)
				return 1
			}
			defer c.Close()
			conns[st.Conn] = c
			go func() {
				for range c.Notifications() {
				}
			}()
		}
		for range max(st.Repeat, 1) {
			var params any
			if len(st.Params) > 0 {
				params = st.Params
			}
			var res json.RawMessage
			err := c.Call(ctx, st.Method, params, &res)
			r := scriptResult{Result: res}
			if err != nil {
				r = scriptResult{Code: rpcCode(err), Message: err.Error()}
				if r.Code == 0 {
					r.Code = 1
				}
			}
			out[i] = append(out[i], r)
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// scriptChild is a running script child.
type scriptChild struct {
	Results [][]scriptResult
	stdin   io.Closer
	cmd     *exec.Cmd
}

// release closes the child's connections and waits for it to exit.
func (sc *scriptChild) release() {
	if sc.stdin != nil {
		sc.stdin.Close()
		sc.cmd.Wait()
		sc.stdin = nil
	}
}

// runScript runs steps as uid (gid = uid) and returns once the child
// printed its results; its connections stay open until release (called
// at cleanup at the latest).
func runScript(t *testing.T, exe string, uid int, socket string, steps []scriptStep) *scriptChild {
	t.Helper()
	b, _ := json.Marshal(steps)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envChild+"=script", envSocket+"="+socket, envScript+"="+string(b))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), Groups: []uint32{socketGID}}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := &scriptChild{stdin: stdin, cmd: cmd}
	t.Cleanup(sc.release)
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		sc.release()
		t.Fatalf("script child as uid %d: %v\n%s", uid, err, stderr.String())
	}
	if err := json.Unmarshal(line, &sc.Results); err != nil {
		t.Fatalf("script child output %q: %v", line, err)
	}
	return sc
}

// asOtherUIDs prepares a test service for other-uid clients.
func asOtherUIDs(t *testing.T, ts *testService) string {
	t.Helper()
	requireRoot(t)
	if err := os.Chown(ts.socket, 0, socketGID); err != nil {
		t.Fatal(err)
	}
	return selfExecutable(t)
}
