package client

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// FuzzSplitResult holds splitResult to encoding/json on valid JSON lines:
// whenever it splits one, a full decode reads the same id and result.
func FuzzSplitResult(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"result":{"status":"ok","you":{"uid":0}}}`,
		`{"jsonrpc":"2.0","id":18446744073709551615,"result":1}`,
		`{"jsonrpc":"2.0","id":01,"result":1}`,
		`{"jsonrpc":"2.0","id":"1","result":1}`,
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}`,
		`{"jsonrpc":"2.0","id":1,"result":"}"}`,
		`{"jsonrpc":"2.0","id":1,"result":[]} `,
		`{"jsonrpc":"2.0","id":1,"result":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		id, result, ok := splitResult(line)
		if !ok || !json.Valid(line) {
			return
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%q: split, but encoding/json refuses it: %v", line, err)
		}
		want, err := strconv.ParseUint(string(m.ID), 10, 64)
		if err != nil || want != id || !bytes.Equal(result, m.Result) || m.Error != nil {
			t.Fatalf("%q: split as id %d result %q; encoding/json reads id %s result %q error %s", line, id, result, m.ID, m.Result, m.Error)
		}
	})
}

// TestSplitResultLeavesOtherLines: errors, string ids and lines in any
// other shape take the general path.
func TestSplitResultLeavesOtherLines(t *testing.T) {
	if id, res, ok := splitResult([]byte(`{"jsonrpc":"2.0","id":42,"result":{"a":[1,2]}}`)); !ok || id != 42 || string(res) != `{"a":[1,2]}` {
		t.Fatalf("a result line: id %d result %q ok %v", id, res, ok)
	}
	for _, line := range []string{
		`{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}`,
		`{"jsonrpc":"2.0","id":"1","result":1}`,
		`{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"too many connections"}}`,
		`{"jsonrpc":"2.0","id":01,"result":1}`,
		`{"jsonrpc":"2.0","id":1,"result":1} `,
		`{"jsonrpc":"2.0","method":"indicator.changed","params":{}}`,
	} {
		if _, _, ok := splitResult([]byte(line)); ok {
			t.Errorf("%s: split, want the general path", line)
		}
	}
}

// BenchmarkReplyDecode reports the CPU time (ns on the calling thread)
// the client spends on a reply as long as sys.health's (about 400 bytes
// with a test's paths) and on the bare echo's, split in place, and the
// full decode that split replaced.
func BenchmarkReplyDecode(b *testing.B) {
	health := []byte(`{"jsonrpc":"2.0","id":123,"result":{"status":"ok","uptime_ms":1234,"storage":{"ok":true,"driver":"mattn/go-sqlite3","path":"/tmp/TestSomething1234567890/001/data/permd.db","free_bytes":123456789012},"connections":3,"config_dir":"/tmp/TestSomething1234567890/001/config","config_reloads":1,"config_rejects":0,"queue_depth":0,"dropped":0,"you":{"uid":0,"gid":0,"pid":12345,"role":"root"}}}`)
	echo := []byte(`{"jsonrpc":"2.0","id":123,"result":{"echo":"sys.health"}}`)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := func() int64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
			b.Fatal(err)
		}
		return ts.Nano()
	}
	const n = 20000
	nsPer := func(f func()) float64 {
		start := cpu()
		for range n {
			f()
		}
		return float64(cpu()-start) / n
	}
	decode := func(line []byte) func() {
		return func() {
			var m struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
				Result json.RawMessage `json:"result"`
				Error  *RPCError       `json:"error"`
			}
			json.Unmarshal(line, &m)
		}
	}
	split := func(line []byte) func() {
		return func() {
			_, res, _ := splitResult(line)
			_ = bytes.Clone(res)
		}
	}
	for range b.N {
		b.ReportMetric(nsPer(split(health)), "split-ns")
		b.ReportMetric(nsPer(split(echo)), "split-echo-ns")
		b.ReportMetric(nsPer(decode(health)), "decode-ns")
		b.ReportMetric(nsPer(decode(echo)), "decode-echo-ns")
		b.ReportMetric(float64(len(health)), "reply-bytes")
	}
}
