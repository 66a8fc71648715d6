package framework

import (
	"encoding/json"
	"errors"
	"os"
	"time"
)

// The write side of a connection. Replies are written by whoever made
// them (the read goroutine for Fast methods, a handler's goroutine
// otherwise): a hand-off to a writer goroutine would cost a context
// switch on the hot path. wmu keeps lines whole; the last writer in a
// burst flushes, so concurrent replies share one write, and the read
// goroutine holds the replies to a pipelined run of requests until the
// run ends, as a buffered echo server would.

// flushAt is how much may queue before a write regardless.
const flushAt = 32 << 10

// reply encodes one reply and queues it; flush false holds it for the
// write of the replies to the lines that follow it.
func (c *conn) reply(id json.RawMessage, method string, res any, rerr *Error, flush bool) {
	e := getReplyEncoder()
	line, err := e.appendReply(e.line[:0], id, res, rerr)
	if err != nil && c.sv != nil {
		c.sv.log.Error("encode result", "method", method, "err", err)
	}
	line = append(line, '\n')
	c.send(line, flush)
	e.line = line
	e.put()
}

// send queues one whole line (copied) and writes what is queued unless
// another sender is about to, or flush is false.
func (c *conn) send(line []byte, flush bool) {
	c.waiting.Add(1)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	last := c.waiting.Add(-1) == 0
	if c.werr != nil {
		return
	}
	c.out = append(c.out, line...)
	switch {
	case (flush && last) || len(c.out) >= flushAt:
		c.flushLocked()
	case !flush:
		c.held = true
	}
}

// flushHeld writes the replies the read goroutine held back, if another
// writer has not done so already.
func (c *conn) flushHeld() {
	c.wmu.Lock()
	if c.held && c.werr == nil {
		c.flushLocked()
	}
	c.wmu.Unlock()
}

// flushLocked writes out whole. A write blocked for WriteTimeout ends the
// connection. The deadline is moved lazily, as the read side's: the
// socket keeps the one it has, and one that fires before this write has
// waited WriteTimeout is moved and the write goes on.
func (c *conn) flushLocked() {
	c.held = false
	b := c.out
	if len(b) == 0 {
		return
	}
	timeout := time.Duration(c.lim.WriteTimeout)
	start := time.Now()
	if c.wdl.IsZero() {
		c.setWriteDeadline(start.Add(timeout))
	}
	for len(b) > 0 {
		n, err := c.nc.Write(b)
		b = b[n:]
		if err == nil {
			break
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && time.Since(start) < timeout {
			c.setWriteDeadline(start.Add(timeout))
			continue
		}
		// The peer is gone or stuck past the write timeout: end the
		// connection so its handlers and subscriptions stop.
		c.werr = err
		go c.close()
		break
	}
	if cap(c.out) > 4*flushAt {
		c.out = nil // one huge reply: do not keep its buffer
	} else {
		c.out = c.out[:0]
	}
}

// setWriteDeadline sets the socket's write deadline; wmu is held.
func (c *conn) setWriteDeadline(t time.Time) {
	c.wdl = t
	c.nc.SetWriteDeadline(t)
}
