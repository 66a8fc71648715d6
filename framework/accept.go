package framework

import (
	"errors"
	"net"
	"os"
	"time"
)

// serve accepts until the listener is closed.
func (sv *server) serve() error {
	var backoff time.Duration
	for {
		nc, err := sv.ln.Accept()
		if err != nil {
			if sv.isClosing() {
				return nil
			}
			// EMFILE and friends: back off instead of spinning.
			var ne net.Error
			if errors.As(err, &ne) || errors.Is(err, os.ErrDeadlineExceeded) || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				sv.log.Warn("accept failed; backing off", "err", err, "backoff", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		go sv.handle(nc)
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (sv *server) isClosing() bool {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.closing
}

// handle identifies the peer once, admits it against the connection
// limits, and runs its read loop.
func (sv *server) handle(nc net.Conn) {
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		nc.Close()
		return
	}
	// One snapshot: limits and roles from the same config, even mid-reload.
	cfg := sv.svc.config()
	lim := cfg.Limits
	actor, err := peerActor(uc, cfg.roles, sv.svc.identity.resolver)
	if err != nil {
		sv.log.Warn("peer identity unavailable; closing", "err", err)
		nc.Close()
		return
	}
	c := newConn(sv, uc, actor, lim)
	if msg := sv.admit(c, lim); msg != "" {
		// Tell the peer why before closing, so a client sees a reason
		// rather than a bare EOF.
		uc.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		b, _ := appendReply(nil, nullID, nil, &Error{Code: CodeOverloaded, Message: msg})
		uc.Write(append(b, '\n'))
		uc.Close()
		sv.log.Warn("connection refused", "uid", actor.UID, "pid", actor.PID, "reason", msg)
		return
	}
	defer sv.release(c)
	c.run()
}

func (sv *server) admit(c *conn, lim Limits) string {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	switch {
	case sv.closing:
		return "server is shutting down"
	case len(sv.conns) >= lim.MaxConnections:
		return "too many connections"
	case sv.perUID[c.actor.UID] >= lim.MaxConnectionsPerUID:
		return "too many connections from this uid"
	}
	sv.conns[c] = struct{}{}
	sv.perUID[c.actor.UID]++
	return ""
}

func (sv *server) release(c *conn) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	delete(sv.conns, c)
	if sv.perUID[c.actor.UID]--; sv.perUID[c.actor.UID] <= 0 {
		delete(sv.perUID, c.actor.UID)
	}
}
