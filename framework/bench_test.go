package framework

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"permd/framework/client"
)

// benchCalls is how many round trips each measurement makes; make bench
// may raise it with PERMD_BENCH_CALLS.
func benchCalls() int {
	if n, err := strconv.Atoi(os.Getenv("PERMD_BENCH_CALLS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// latencyStats summarises one measurement.
type latencyStats struct {
	P50, P99 time.Duration
	PerSec   float64
}

// measure runs calls round trips split over clients goroutines, each with
// its own connection from dial, and returns the latency distribution.
func measure(tb testing.TB, clients, calls int, dial func() *client.Client, call func(c *client.Client) error) latencyStats {
	tb.Helper()
	conns := make([]*client.Client, clients)
	for i := range conns {
		conns[i] = dial()
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Warm up: connections, goroutines, prepared statements.
	for _, c := range conns {
		for range 200 {
			if err := call(c); err != nil {
				tb.Fatal(err)
			}
		}
	}
	per := calls / clients
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := make([]time.Duration, 0, per)
			for range per {
				t0 := time.Now()
				if err := call(c); err != nil {
					errs <- err
					return
				}
				l = append(l, time.Since(t0))
			}
			lat[i] = l
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	return latencyStats{
		P50:    all[len(all)/2],
		P99:    all[len(all)*99/100],
		PerSec: float64(len(all)) / elapsed.Seconds(),
	}
}

// startEchoServer is the bare baseline: a Go unix-socket server that
// decodes each JSON-RPC line and answers it, with nothing else. It serves
// pipelined requests as a buffered server should: replies to the lines
// already read go out in one write, flushed when no more input is
// buffered (a lone request is flushed at once).
func startEchoServer(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "echo.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				r := bufio.NewReader(nc)
				w := bufio.NewWriter(nc)
				for {
					line, err := r.ReadBytes('\n')
					if err != nil {
						return
					}
					var req struct {
						ID     json.RawMessage `json:"id"`
						Method string          `json:"method"`
					}
					if json.Unmarshal(line, &req) != nil {
						return
					}
					b, _ := json.Marshal(struct {
						JSONRPC string          `json:"jsonrpc"`
						ID      json.RawMessage `json:"id"`
						Result  any             `json:"result"`
					}{"2.0", req.ID, map[string]string{"echo": req.Method}})
					w.Write(b)
					w.WriteByte('\n')
					if r.Buffered() == 0 {
						w.Flush()
					}
				}
			}()
		}
	}()
	return path
}

func dialer(tb testing.TB, path string) func() *client.Client {
	return func() *client.Client {
		c, err := client.Dial(context.Background(), path)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
}

func callMethod(method string, params any) func(c *client.Client) error {
	return func(c *client.Client) error {
		return c.Call(context.Background(), method, params, nil)
	}
}

// BenchmarkSysHealthVsEcho reports sys.health round trips over the socket
// next to the bare echo server, measured in the same run, at 1 and 8
// clients. Targets: p50 <= 1.2x echo, p99 <= 2x echo.
func BenchmarkSysHealthVsEcho(b *testing.B) {
	ts := startTestService(b, testOptions{})
	echo := startEchoServer(b)
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			for range b.N {
				e := measure(b, clients, benchCalls(), dialer(b, echo), callMethod("sys.health", nil))
				h := measure(b, clients, benchCalls(), dialer(b, ts.socket), callMethod("sys.health", nil))
				reportVs(b, "health", h, e)
			}
		})
	}
}

// reportVs reports a measurement next to the echo baseline.
func reportVs(b *testing.B, name string, m, base latencyStats) {
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	b.ReportMetric(us(base.P50), "echo-p50-us")
	b.ReportMetric(us(base.P99), "echo-p99-us")
	b.ReportMetric(base.PerSec, "echo-calls/s")
	b.ReportMetric(us(m.P50), name+"-p50-us")
	b.ReportMetric(us(m.P99), name+"-p99-us")
	b.ReportMetric(m.PerSec, name+"-calls/s")
	b.ReportMetric(us(m.P50)/us(base.P50), "ratio-p50")
	b.ReportMetric(us(m.P99)/us(base.P99), "ratio-p99")
}

// BenchmarkPipelinedVsEcho reports the throughput of sys.health requests
// pipelined on one connection, 64 in flight, next to the bare echo
// server's in the same run. Target: >= 0.8x the echo.
func BenchmarkPipelinedVsEcho(b *testing.B) {
	ts := startTestService(b, testOptions{})
	echo := startEchoServer(b)
	const window = 64
	calls := 5 * benchCalls()
	for range b.N {
		e := pipelined(b, echo, calls, window)
		h := pipelined(b, ts.socket, calls, window)
		b.ReportMetric(e, "echo-calls/s")
		b.ReportMetric(h, "health-calls/s")
		b.ReportMetric(h/e, "ratio")
	}
}

// pipelined sends calls sys.health requests on one connection, keeping
// window of them unanswered, and returns the replies per second. The
// writer flushes only when it must wait for a reply, and the reader
// checks that each line is a result.
func pipelined(tb testing.TB, path string, calls, window int) float64 {
	tb.Helper()
	nc, err := net.Dial("unix", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	run := func(n int) time.Duration {
		credits := make(chan struct{}, window)
		for range window {
			credits <- struct{}{}
		}
		done := make(chan error, 1)
		go func() {
			r := bufio.NewReaderSize(nc, 64<<10)
			for range n {
				line, err := r.ReadSlice('\n')
				if err != nil {
					done <- err
					return
				}
				if !bytes.Contains(line, []byte(`"result":`)) {
					done <- fmt.Errorf("reply %q is not a result", line)
					return
				}
				credits <- struct{}{}
			}
			if r.Buffered() > 0 {
				done <- fmt.Errorf("%d bytes beyond the %d replies", r.Buffered(), n)
				return
			}
			done <- nil
		}()
		w := bufio.NewWriterSize(nc, 64<<10)
		start := time.Now()
		var req []byte
		for i := range n {
			select {
			case <-credits:
			default:
				if err := w.Flush(); err != nil {
					tb.Fatal(err)
				}
				<-credits
			}
			req = strconv.AppendInt(append(req[:0], `{"jsonrpc":"2.0","id":`...), int64(i), 10)
			req = append(req, ",\"method\":\"sys.health\"}\n"...)
			w.Write(req)
		}
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		if err := <-done; err != nil {
			tb.Fatal(err)
		}
		return time.Since(start)
	}
	run(2000) // warm up
	return float64(calls) / run(calls).Seconds()
}

// BenchmarkSocketPathParts times (CPU ns per call), in process, each
// stage of a sys.health call that the bare echo does differently, next
// to the echo's own: the request's parse (the echo's json.Unmarshal), the
// handler (the echo has none) and the reply's encoding (the echo's
// json.Marshal of a small map). framework/client's BenchmarkReplyDecode
// times the client's side of the two replies.
func BenchmarkSocketPathParts(b *testing.B) {
	ts := startTestService(b, testOptions{})
	call := &Call{Actor: Actor{Role: RoleRoot}, Notify: func(string, any) error { return nil }, Subscribe: func() {}}
	ctx := context.Background()
	req := []byte(`{"jsonrpc":"2.0","id":1,"method":"sys.health"}`)
	res, err := ts.svc.sysHealth(ctx, call)
	if err != nil {
		b.Fatal(err)
	}
	// CPU time of the calling thread, not wall time: on shared cores a
	// loop this short is otherwise mostly time spent descheduled.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := func() int64 {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
			b.Fatal(err)
		}
		return ts.Nano()
	}
	n := benchCalls()
	nsPer := func(f func()) float64 {
		start := cpu()
		for range n {
			f()
		}
		return float64(cpu()-start) / float64(n)
	}
	for range b.N {
		b.ReportMetric(nsPer(func() {
			var r request
			parseRequest(req, &r, ts.svc.server.methods)
		}), "parse-ns")
		b.ReportMetric(nsPer(func() {
			var r struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
			}
			json.Unmarshal(req, &r)
		}), "echo-parse-ns")
		b.ReportMetric(nsPer(func() { ts.svc.sysHealth(ctx, call) }), "handler-ns")
		var line []byte
		b.ReportMetric(nsPer(func() { line, _ = appendReply(line[:0], json.RawMessage("1"), res, nil) }), "encode-ns")
		b.ReportMetric(nsPer(func() {
			json.Marshal(struct {
				JSONRPC string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Result  any             `json:"result"`
			}{"2.0", json.RawMessage("1"), map[string]string{"echo": "sys.health"}})
		}), "echo-encode-ns")
		b.ReportMetric(float64(len(line)), "reply-bytes")
	}
}
