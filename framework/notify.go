package framework

import (
	"encoding/json"
	"errors"
	"os"
	"syscall"
	"time"
)

// notify sends a notification without waiting: a subscriber that does
// not read must not hold up whoever is notifying. When nothing else is
// being written to the connection the line goes straight to the socket
// with one non-blocking write, on the notifier's goroutine; otherwise,
// or for what the socket does not take at once, a small goroutine per
// subscribing connection writes it. The queue is bounded: when it is
// full the caller is told, and subscriptions retry with the latest state.
func (c *conn) notify(method string, params any) error {
	line, err := notificationLine(method, params)
	if err != nil {
		return err
	}
	select {
	case <-c.done:
		return errConnClosed
	default:
	}
	c.notesOnce.Do(c.startNotes)
	// Straight to the socket only when no earlier notification is still
	// queued or in the writer goroutine's hands (backlog), so that
	// notifications leave in the order they were made.
	if c.backlog.Load() == 0 && c.wmu.TryLock() {
		direct := c.werr == nil && len(c.out) == 0 && c.backlog.Load() == 0
		if direct {
			n, err := c.writeNow(line)
			switch {
			case err == nil && n == len(line):
			case err != nil && !errors.Is(err, syscall.EAGAIN):
				c.werr = err
				go c.close()
			default:
				// The socket took part of the line or none of it: the
				// writer goroutine finishes it before anything else.
				c.out = append(c.out, line[n:]...)
				c.kickNotes()
			}
		}
		c.wmu.Unlock()
		if direct {
			return nil
		}
	}
	c.backlog.Add(1)
	select {
	case c.notes <- line:
		return nil
	case <-c.done:
		c.backlog.Add(-1)
		return errConnClosed
	default:
		c.backlog.Add(-1)
		return errQueueFull
	}
}

// notificationLine encodes a notification. Params that are already JSON
// (a snapshot encoded once for every subscriber) are copied in as they
// are rather than re-validated for each subscriber.
func notificationLine(method string, params any) ([]byte, error) {
	raw, ok := params.(json.RawMessage)
	if !ok {
		b, err := json.Marshal(notification{JSONRPC: "2.0", Method: method, Params: params})
		return append(b, '\n'), err
	}
	m, err := json.Marshal(method)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 40+len(m)+len(raw))
	b = append(b, `{"jsonrpc":"2.0","method":`...)
	b = append(b, m...)
	b = append(b, `,"params":`...)
	b = append(b, raw...)
	return append(b, "}\n"...), nil
}

// writeNow makes one non-blocking write of line to the socket and
// returns how much it took. Called with wmu held and nothing queued.
func (c *conn) writeNow(line []byte) (int, error) {
	if c.rc == nil {
		rc, err := c.nc.SyscallConn()
		if err != nil {
			return 0, err
		}
		c.rc = rc
	}
	var n int
	var werr error
	write := func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), line)
		if n < 0 {
			n = 0
		}
		return true // never wait for the socket here
	}
	err := c.rc.Write(write)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The deadline the last blocking write set has passed; it
		// guards blocking writes only, and this one does not block.
		c.setWriteDeadline(time.Time{})
		err = c.rc.Write(write)
	}
	if err != nil {
		return 0, err
	}
	return n, werr
}

func (c *conn) startNotes() {
	c.notes = make(chan []byte, c.lim.OutQueue)
	go func() {
		for {
			select {
			case line := <-c.notes:
				c.send(line, true)
				if line != nil { // nil only asks for the pending rest
					c.backlog.Add(-1)
				}
			case <-c.done:
				return
			}
		}
	}()
}

// kickNotes makes the writer goroutine flush what is pending.
func (c *conn) kickNotes() {
	select {
	case c.notes <- nil:
	default: // the queue is busy, so the goroutine will run anyway
	}
}
