package framework

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// conn is one client connection. One goroutine reads lines and serves
// Fast methods itself; any other request runs on its own goroutine
// (bounded by MaxInFlight, so a client that pipelines is slowed rather
// than served without limit) and queues its reply itself (connwrite.go);
// a notification is written straight to an idle socket, else through a
// bounded queue (notify.go).
type conn struct {
	sv    *server
	nc    *net.UnixConn
	actor Actor
	lim   Limits

	// The write side (connwrite.go, notify.go).
	wmu       sync.Mutex
	out       []byte          // not yet written; a notification's unwritten rest comes first. Guarded by wmu
	held      bool            // out holds replies the read goroutine will flush; guarded by wmu
	werr      error           // first write error; later writes are dropped. Guarded by wmu
	wdl       time.Time       // the write deadline set on the socket; guarded by wmu
	rc        syscall.RawConn // for direct notification writes; guarded by wmu
	waiting   atomic.Int32    // senders queued on wmu: the last one flushes
	backlog   atomic.Int32    // notifications queued or being written by the notes goroutine
	notesOnce sync.Once
	notes     chan []byte // queued notifications

	sem       chan struct{}
	done      chan struct{} // closed when the connection is finished
	closeOnce sync.Once
	wg        sync.WaitGroup  // this connection's handlers
	subs      atomic.Int32    // live subscriptions: idle timeout does not apply
	ctx       context.Context // cancelled when the connection closes
	cancel    context.CancelFunc
	stopping  atomic.Bool

	// notifyFn and subscribeFn are c.notify and c.subscribe, bound once:
	// a method value allocates each time it is taken.
	notifyFn    func(method string, params any) error
	subscribeFn func()
}

func newConn(sv *server, nc *net.UnixConn, a Actor, lim Limits) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{
		sv: sv, nc: nc, actor: a, lim: lim, ctx: ctx, cancel: cancel,
		sem:  make(chan struct{}, lim.MaxInFlight),
		done: make(chan struct{}),
	}
	c.notifyFn, c.subscribeFn = c.notify, c.subscribe
	return c
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.cancel()
		c.nc.Close()
	})
}

// stopReading makes the read loop return at once; handlers already
// running still answer.
func (c *conn) stopReading() {
	c.stopping.Store(true)
	c.nc.CloseRead()
	c.nc.SetReadDeadline(time.Now())
}

func (c *conn) run() {
	c.readLoop()
	c.flushHeld()
	// Let running handlers answer, then close.
	c.wg.Wait()
	c.close()
}

// subscribe marks the connection as a subscriber until it closes: the
// idle timeout no longer applies, since a subscriber legitimately waits.
func (c *conn) subscribe() {
	c.subs.Add(1)
}

var (
	errConnClosed = errors.New("connection closed")
	errQueueFull  = errors.New("connection output queue full")
)

// readLoop reads newline-delimited requests into one buffer and serves
// each complete line from it in place. A line longer than the limit gets
// an error and the connection is closed: we cannot find the next request
// boundary without reading the whole oversized line.
//
// Deadlines are moved lazily: setting one costs more than serving a
// small request, so the socket keeps the deadline it has unless the read
// needs an earlier one, and a deadline that fires before the one the
// read wanted is moved and the read goes on.
func (c *conn) readLoop() {
	buf := make([]byte, 16<<10)
	r, w := 0, 0           // buf[r:w] is read but not yet served
	var readAt time.Time   // when buf was last filled; kept only for Options.TraceArrival
	var deadline time.Time // the read deadline set on the socket
	trace := c.sv.svc.opt.TraceArrival != nil
	for {
		// Serve every complete line already buffered.
		nl := bytes.IndexByte(buf[r:w], '\n')
		for nl >= 0 {
			if nl > c.lim.MaxLineBytes {
				c.tooLarge()
				return
			}
			line := buf[r : r+nl]
			r += nl + 1
			nl = bytes.IndexByte(buf[r:w], '\n')
			c.serveLine(line, nl >= 0, readAt)
		}
		c.flushHeld()
		if w-r > c.lim.MaxLineBytes {
			c.tooLarge()
			return
		}
		switch {
		case r == w:
			r, w = 0, 0
		case len(buf)-w < len(buf)/4:
			// Move the partial line to the front, and grow the buffer
			// when the line fills most of it (up to just over the limit,
			// which the check above then catches).
			if w-r > len(buf)/2 {
				nb := make([]byte, 2*len(buf))
				copy(nb, buf[r:w])
				buf = nb
			} else {
				copy(buf, buf[r:w])
			}
			r, w = 0, w-r
		}
		if c.stopping.Load() {
			return
		}
		// A peer in the middle of a line must finish it soon; an idle
		// peer may wait long, and a subscriber forever.
		var want time.Time
		switch {
		case w > r:
			want = time.Now().Add(time.Duration(c.lim.ReadTimeout))
		case c.subs.Load() > 0:
		default:
			want = time.Now().Add(time.Duration(c.lim.IdleTimeout))
		}
		if !want.IsZero() && (deadline.IsZero() || want.Before(deadline)) {
			deadline = want
			c.nc.SetReadDeadline(want)
		}
		n, err := c.nc.Read(buf[w:])
		if trace {
			readAt = time.Now()
		}
		w += n
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && !c.stopping.Load() {
				if want.IsZero() || time.Now().Before(want) {
					// An older deadline than this read wanted.
					deadline = want
					c.nc.SetReadDeadline(want)
					continue
				}
				// Idle past the limit, or a subscription began while we
				// waited: re-check before giving up.
				if w == r && (c.subs.Load() > 0 || c.wgBusy()) {
					continue
				}
			}
			if errors.Is(err, io.EOF) && len(bytes.TrimSpace(buf[r:w])) > 0 && !c.stopping.Load() {
				// A last request without its newline: serve it anyway.
				c.serveLine(buf[r:w], false, readAt)
			}
			return
		}
	}
}

// wgBusy reports whether a request is still running; a long call must
// not be cut off by the idle timeout.
func (c *conn) wgBusy() bool { return len(c.sem) > 0 }

func (c *conn) tooLarge() {
	c.sv.log.Warn("request line over limit; closing", "uid", c.actor.UID, "pid", c.actor.PID, "limit", c.lim.MaxLineBytes)
	c.wg.Wait()
	c.reply(nullID, "", nil, Errorf(CodeTooLarge, "request line exceeds %d bytes", c.lim.MaxLineBytes), true)
}

// spawn runs serve on its own goroutine. The semaphore bounds requests in
// flight per connection; once the connection is closing, serve runs only
// if always is set (a deferred reply's wait must happen anyway).
func (c *conn) spawn(always bool, serve func()) {
	acquired := true
	select {
	case c.sem <- struct{}{}:
	case <-c.done:
		if !always {
			return
		}
		acquired = false
	}
	c.wg.Add(1)
	c.sv.inflight.Add(1)
	go func() {
		defer func() {
			if acquired {
				<-c.sem
			}
			c.wg.Done()
			c.sv.inflight.Done()
		}()
		serve()
	}()
}
