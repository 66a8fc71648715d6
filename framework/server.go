package framework

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// server accepts connections and runs the JSON-RPC loop on each. It holds
// no capability logic: it looks methods up in the table, checks the role,
// and calls the handler.
type server struct {
	svc     *Service
	ln      net.Listener
	methods map[string]Method
	log     *slog.Logger

	mu       sync.Mutex
	conns    map[*conn]struct{}
	perUID   map[int]int
	closing  bool
	inflight sync.WaitGroup // every running handler

	stats *methodStats
}

func newServer(svc *Service, ln net.Listener, table []Method) (*server, error) {
	m := make(map[string]Method, len(table))
	for _, row := range table {
		if row.Name == "" || row.Handler == nil || len(row.Roles) == 0 {
			return nil, errors.New("method table: row " + row.Name + " lacks name, handler or roles")
		}
		if _, dup := m[row.Name]; dup {
			return nil, errors.New("method table: duplicate method " + row.Name)
		}
		m[row.Name] = row
	}
	return &server{
		svc: svc, ln: ln, methods: m, log: svc.log,
		conns: map[*conn]struct{}{}, perUID: map[int]int{},
		stats: newMethodStats(m),
	}, nil
}

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
	lim := sv.svc.config().Limits
	actor, err := peerActor(uc, sv.svc.config().roles, sv.svc.identity.resolver)
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
		b, _ := json.Marshal(response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &Error{Code: CodeOverloaded, Message: msg}})
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

func (sv *server) connCount() int {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return len(sv.conns)
}

// shutdown stops accepting, lets in-flight handlers finish until ctx
// ends, then closes every connection.
func (sv *server) shutdown(ctx context.Context) {
	sv.mu.Lock()
	sv.closing = true
	conns := make([]*conn, 0, len(sv.conns))
	for c := range sv.conns {
		conns = append(conns, c)
	}
	sv.mu.Unlock()
	sv.ln.Close()
	// Stop reading new requests; requests already read run to the end.
	for _, c := range conns {
		c.stopReading()
	}
	done := make(chan struct{})
	go func() { sv.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		sv.log.Warn("shutdown: in-flight requests did not finish in time")
	}
	for _, c := range conns {
		c.close()
	}
}

// conn is one client connection. One goroutine reads lines; each request
// runs in its own goroutine (bounded by MaxInFlight, so a client that
// pipelines is slowed rather than served without limit) and writes its
// reply itself; a notification is written straight to an idle socket,
// else through a bounded queue (see notify).
type conn struct {
	sv    *server
	nc    *net.UnixConn
	actor Actor
	lim   Limits

	wmu       sync.Mutex
	bw        *bufio.Writer
	werr      error           // first write error; later writes are dropped
	pending   []byte          // unwritten rest of a direct notification; guarded by wmu
	rc        syscall.RawConn // for direct notification writes; guarded by wmu
	backlog   atomic.Int32    // notifications queued or being written by the notes goroutine
	waiting   atomic.Int32    // senders queued on wmu: the last one flushes
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
}

func newConn(sv *server, nc *net.UnixConn, a Actor, lim Limits) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{
		sv: sv, nc: nc, actor: a, lim: lim, ctx: ctx, cancel: cancel,
		bw:   bufio.NewWriterSize(nc, 16<<10),
		sem:  make(chan struct{}, lim.MaxInFlight),
		done: make(chan struct{}),
	}
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
	// Let running handlers answer, then close.
	c.wg.Wait()
	c.close()
}

// send writes one reply line. Handlers write directly (no hand-off to a
// writer goroutine: that hop costs a context switch on the hot path);
// the mutex keeps lines whole, and the last writer in a burst flushes,
// so concurrent replies share one syscall.
func (c *conn) send(line []byte) {
	c.waiting.Add(1)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		c.waiting.Add(-1)
		return
	}
	c.nc.SetWriteDeadline(time.Now().Add(time.Duration(c.lim.WriteTimeout)))
	var err error
	if len(c.pending) > 0 {
		// The rest of a notification the socket took only part of.
		_, err = c.bw.Write(c.pending)
		c.pending = nil
	}
	if err == nil {
		_, err = c.bw.Write(line)
	}
	if c.waiting.Add(-1) == 0 || c.bw.Buffered() > 32<<10 {
		if ferr := c.bw.Flush(); err == nil {
			err = ferr
		}
	}
	if err != nil {
		// The peer is gone or stuck past the write timeout: end the
		// connection so its handlers and subscriptions stop.
		c.werr = err
		go c.close()
	}
}

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
		direct := c.werr == nil && c.bw.Buffered() == 0 && len(c.pending) == 0 && c.backlog.Load() == 0
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
				c.pending = append(c.pending, line[n:]...)
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
// returns how much it took. Called with wmu held and nothing buffered.
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
		c.nc.SetWriteDeadline(time.Time{})
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
				c.send(line)
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

// subscribe marks the connection as a subscriber until it closes: the
// idle timeout no longer applies, since a subscriber legitimately waits.
func (c *conn) subscribe() {
	c.subs.Add(1)
}

var (
	errConnClosed = errors.New("connection closed")
	errQueueFull  = errors.New("connection output queue full")
)

// readLoop reads newline-delimited requests. A line longer than the limit
// gets an error and the connection is closed: we cannot find the next
// request boundary without reading the whole oversized line.
func (c *conn) readLoop() {
	buf := make([]byte, 0, 4096)
	var readAt time.Time // when buf was last filled; kept only for Options.TraceArrival
	chunk := make([]byte, 32<<10)
	for {
		// Consume every complete line already buffered.
		for {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				break
			}
			line := buf[:i]
			if len(line) > c.lim.MaxLineBytes {
				c.tooLarge()
				return
			}
			buf = buf[i+1:]
			// The common case is a client waiting for this one reply:
			// serve it on this goroutine and skip a goroutine hand-off.
			// With more lines queued or a call still running, run it
			// concurrently so one slow call does not hold up others.
			if c.serveLine(line, len(c.sem) == 0 && bytes.IndexByte(buf, '\n') < 0, readAt) {
				continue
			}
			c.dispatchLine(bytes.Clone(line))
		}
		if len(buf) > c.lim.MaxLineBytes {
			c.tooLarge()
			return
		}
		// Compact so the buffer does not grow without bound.
		if cap(buf)-len(buf) < len(chunk)/2 {
			nb := make([]byte, len(buf), max(2*len(buf), 4096))
			copy(nb, buf)
			buf = nb
		}
		if c.stopping.Load() {
			return
		}
		// A peer in the middle of a line must finish it soon; an idle
		// peer may wait long, and a subscriber forever.
		var dl time.Time
		switch {
		case len(buf) > 0:
			dl = time.Now().Add(time.Duration(c.lim.ReadTimeout))
		case c.subs.Load() > 0:
			dl = time.Time{}
		default:
			dl = time.Now().Add(time.Duration(c.lim.IdleTimeout))
		}
		c.nc.SetReadDeadline(dl)
		n, err := c.nc.Read(chunk)
		if c.sv.svc.opt.TraceArrival != nil {
			readAt = time.Now()
		}
		buf = append(buf, chunk[:n]...)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && len(buf) == 0 && !c.stopping.Load() {
				// Idle past the limit, or a subscription began while we
				// waited: re-check before giving up.
				if c.subs.Load() > 0 || c.wgBusy() {
					continue
				}
			}
			if errors.Is(err, io.EOF) && len(bytes.TrimSpace(buf)) > 0 && !c.stopping.Load() {
				// A last request without its newline: serve it anyway.
				c.dispatchLine(bytes.Clone(buf))
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
	b, _ := json.Marshal(response{JSONRPC: "2.0", ID: json.RawMessage("null"),
		Error: Errorf(CodeTooLarge, "request line exceeds %d bytes", c.lim.MaxLineBytes)})
	c.send(append(b, '\n'))
}

// serveLine serves a line holding one request object. A Fast method is
// served on the read goroutine when inline allows it; anything else runs
// concurrently with the request already decoded, so that a long line (a
// ledger report) is parsed once. It returns false for lines it leaves to
// dispatchLine: batches, and lines that do not decode, whose error
// dispatchLine explains.
func (c *conn) serveLine(line []byte, inline bool, readAt time.Time) bool {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	var req request // owns its bytes: json copies into RawMessage
	if json.Unmarshal(line, &req) != nil {
		return false
	}
	if trace := c.sv.svc.opt.TraceArrival; trace != nil {
		trace(req.Method, readAt)
	}
	if m, ok := c.sv.methods[req.Method]; ok && m.Fast && inline {
		c.sem <- struct{}{}
		c.sv.inflight.Add(1)
		defer func() {
			<-c.sem
			c.sv.inflight.Done()
		}()
		if r := c.sv.processRequest(c, &req); r != nil {
			c.send(append(r[:len(r):len(r)], '\n'))
		}
		return true
	}
	c.spawn(func() []byte {
		if r := c.sv.processRequest(c, &req); r != nil {
			return append(r[:len(r):len(r)], '\n')
		}
		return nil
	})
	return true
}

// dispatchLine parses one line (a request, a notification or a batch)
// and runs it concurrently.
func (c *conn) dispatchLine(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	c.spawn(func() []byte { return c.sv.processLine(c, line) })
}

// spawn runs serve on its own goroutine and sends what it returns. The
// semaphore bounds requests in flight per connection.
func (c *conn) spawn(serve func() []byte) {
	select {
	case c.sem <- struct{}{}:
	case <-c.done:
		return
	}
	c.wg.Add(1)
	c.sv.inflight.Add(1)
	go func() {
		defer func() {
			<-c.sem
			c.wg.Done()
			c.sv.inflight.Done()
		}()
		if out := serve(); out != nil {
			c.send(out)
		}
	}()
}

// processLine returns the encoded reply line, or nil when nothing is to
// be sent (notifications, or a batch of only notifications).
func (sv *server) processLine(c *conn, line []byte) []byte {
	if line[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(line, &batch); err != nil {
			return encode(response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: Errorf(CodeParseError, "parse error: %v", err)})
		}
		if len(batch) == 0 {
			return encode(response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: Errorf(CodeInvalidRequest, "empty batch")})
		}
		if len(batch) > c.lim.MaxBatch {
			return encode(response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: Errorf(CodeInvalidRequest, "batch of %d requests exceeds the limit of %d", len(batch), c.lim.MaxBatch)})
		}
		var out []json.RawMessage
		for _, raw := range batch {
			if r := sv.processOne(c, raw); r != nil {
				out = append(out, r)
			}
		}
		if len(out) == 0 {
			return nil
		}
		b, _ := json.Marshal(out)
		return append(b, '\n')
	}
	r := sv.processOne(c, line)
	if r == nil {
		return nil
	}
	return append(r[:len(r):len(r)], '\n')
}

func encode(r response) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(response{JSONRPC: "2.0", ID: r.ID, Error: &Error{Code: CodeInternal, Message: "result not encodable"}})
	}
	return append(b, '\n')
}

// processOne handles one request object; it returns nil for a
// notification (no id), which gets no reply even on error.
func (sv *server) processOne(c *conn, raw []byte) json.RawMessage {
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || !json.Valid(raw) {
			return mustJSON(response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: Errorf(CodeParseError, "parse error: %v", err)})
		}
		return mustJSON(response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: Errorf(CodeInvalidRequest, "invalid request: %v", err)})
	}
	return sv.processRequest(c, &req)
}

// processRequest runs one decoded request.
func (sv *server) processRequest(c *conn, req *request) json.RawMessage {
	isNotification := len(req.ID) == 0
	id := req.ID
	if isNotification || !validID(req.ID) {
		// JSON-RPC 2.0 §5: when the id cannot be echoed (an object, an
		// array, a boolean), the error reply carries a null id.
		id = json.RawMessage("null")
	}
	if req.JSONRPC != "2.0" || req.Method == "" || !validID(req.ID) {
		if isNotification && req.Method != "" {
			return nil
		}
		return mustJSON(response{JSONRPC: "2.0", ID: id, Error: Errorf(CodeInvalidRequest, "invalid request: want jsonrpc \"2.0\", a method and a string, number or null id")})
	}
	result, rerr := sv.call(c, req.Method, req.Params)
	if isNotification {
		return nil
	}
	if rerr != nil {
		return mustJSON(response{JSONRPC: "2.0", ID: id, Error: rerr})
	}
	if result == nil {
		result = struct{}{}
	}
	buf := encBufs.Get().(*encBuf)
	defer encBufs.Put(buf)
	buf.b.Reset()
	if err := buf.enc.Encode(response{JSONRPC: "2.0", ID: id, Result: result}); err != nil {
		sv.log.Error("encode result", "method", req.Method, "err", err)
		return mustJSON(response{JSONRPC: "2.0", ID: id, Error: &Error{Code: CodeInternal, Message: "result not encodable"}})
	}
	// Encode ends with '\n'; callers add their own separator.
	return bytes.Clone(bytes.TrimSuffix(buf.b.Bytes(), []byte{'\n'}))
}

// encBuf pools the buffer and encoder used for replies: results are
// encoded on every call, and fresh buffers showed up in profiles.
type encBuf struct {
	b   bytes.Buffer
	enc *json.Encoder
}

var encBufs = sync.Pool{New: func() any {
	e := &encBuf{}
	e.enc = json.NewEncoder(&e.b)
	e.enc.SetEscapeHTML(false)
	return e
}}

// validID reports whether a decoded request's id is absent, a string, a
// number or null. The request already decoded, so the first byte tells
// the JSON type ('n' can only begin null).
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return true
	}
	switch id[0] {
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'n':
		return true
	}
	return false
}

func mustJSON(r response) json.RawMessage {
	b, _ := json.Marshal(r)
	return b
}

// call checks the role and runs the handler.
func (sv *server) call(c *conn, method string, params json.RawMessage) (any, *Error) {
	m, ok := sv.methods[method]
	if !ok {
		sv.stats.count("(unknown)", false)
		return nil, Errorf(CodeMethodNotFound, "method %q not found", method)
	}
	if !m.Allows(c.actor.Role) && !sv.svc.config().widens(c.actor.Role, method) {
		sv.stats.count(method, false)
		sv.svc.denials.log(sv.log, c.actor, method)
		return nil, Errorf(CodePermissionDenied, "role %s may not call %s", c.actor.Role, method)
	}
	call := &Call{
		Actor:     c.actor,
		Params:    params,
		Notify:    c.notify,
		Done:      c.done,
		Subscribe: c.subscribe,
	}
	res, err := safeCall(m.Handler, c.ctx, call)
	sv.stats.count(method, err == nil)
	if err != nil {
		e := asRPCError(err)
		if e.Code == CodeInternal {
			sv.log.Error("method failed", "method", method, "uid", c.actor.UID, "pid", c.actor.PID, "err", err)
		}
		return nil, e
	}
	return res, nil
}

// safeCall turns a handler panic into an internal error: one bad request
// must never take the daemon down.
func safeCall(h Handler, ctx context.Context, c *Call) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("handler panic: " + toString(r))
		}
	}()
	return h(ctx, c)
}

func toString(v any) string {
	switch t := v.(type) {
	case error:
		return t.Error()
	case string:
		return t
	}
	b, _ := json.Marshal(v)
	return string(b)
}
