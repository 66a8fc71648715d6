package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"
)

// serveLine is the one path from a request line to its reply: decode,
// validate, look the method up, check the role, run the handler, encode
// the reply (reply.go) and queue it on the connection. A Fast method runs
// here, on the read goroutine, which saves a goroutine hand-off per call;
// any other method, and a batch, runs on a goroutine of its own so that a
// slow call does not hold up the connection.
//
// The line's bytes belong to the read buffer and are valid only during
// the call. more says whether further complete lines are buffered: the
// reply is then held back so that the replies to a pipelined run of
// requests leave in one write, as the read loop flushes after the run.
func (c *conn) serveLine(line []byte, more bool, readAt time.Time) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	if line[0] == '[' {
		batch := bytes.Clone(line)
		c.spawn(false, func() { c.serveBatch(batch) })
		return
	}
	var req request
	if parseRequest(line, &req, c.sv.methods) {
		// The id is used only to reply, before line is reused (a
		// deferred reply copies it); params may outlive the call.
		if len(req.Params) > 0 {
			req.Params = bytes.Clone(req.Params)
		}
	} else if rerr := decodeRequest(line, &req); rerr != nil {
		c.reply(nullID, "", nil, rerr, !more)
		return
	}
	if trace := c.sv.svc.opt.TraceArrival; trace != nil {
		trace(req.Method, readAt)
	}
	if m, ok := c.sv.methods[req.Method]; ok && m.Fast {
		c.sv.inflight.Add(1)
		c.serveRequest(&req, true, !more)
		c.sv.inflight.Done()
		return
	}
	own := &request{JSONRPC: req.JSONRPC, ID: bytes.Clone(req.ID), Method: req.Method, Params: req.Params}
	c.spawn(false, func() { c.serveRequest(own, false, true) })
}

// serveRequest runs one decoded request and replies to it. A deferred
// result (a Fast handler's reply that waits for a commit) is settled on a
// goroutine of its own when this is the read goroutine, so that the
// connection goes on reading and the wait delays only its own reply.
func (c *conn) serveRequest(req *request, onReader, flush bool) {
	id, res, rerr, reply := c.sv.call(c, req)
	if d, ok := res.(*Deferred); ok {
		if onReader {
			// Settled even if the connection is closing: the handler has
			// decided, and what it waits for (a record's commit) must
			// happen whether or not anyone reads the reply.
			id, method := bytes.Clone(id), req.Method
			c.spawn(true, func() {
				res, rerr := c.sv.settle(c, method, d)
				if reply {
					c.reply(id, method, res, rerr, true)
				}
			})
			return
		}
		res, rerr = c.sv.settle(c, req.Method, d)
	}
	if reply {
		c.reply(id, req.Method, res, rerr, flush)
	}
}

// serveBatch serves a batch line; its replies go out as one line.
func (c *conn) serveBatch(line []byte) {
	var batch []json.RawMessage
	if err := json.Unmarshal(line, &batch); err != nil {
		c.reply(nullID, "", nil, Errorf(CodeParseError, "parse error: %v", err), true)
		return
	}
	if len(batch) == 0 {
		c.reply(nullID, "", nil, Errorf(CodeInvalidRequest, "empty batch"), true)
		return
	}
	if len(batch) > c.lim.MaxBatch {
		c.reply(nullID, "", nil, Errorf(CodeInvalidRequest, "batch of %d requests exceeds the limit of %d", len(batch), c.lim.MaxBatch), true)
		return
	}
	e := getReplyEncoder()
	defer e.put()
	out := append(e.line[:0], '[')
	n := 0
	for _, raw := range batch {
		var req request
		id, res, rerr, reply := nullID, any(nil), decodeRequest(raw, &req), true
		if rerr == nil {
			id, res, rerr, reply = c.sv.call(c, &req)
			if d, ok := res.(*Deferred); ok {
				res, rerr = c.sv.settle(c, req.Method, d)
			}
		}
		if !reply {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		var err error
		if out, err = e.appendReply(out, id, res, rerr); err != nil {
			c.sv.log.Error("encode result", "method", req.Method, "err", err)
		}
		n++
	}
	if n > 0 {
		out = append(out, "]\n"...)
		c.send(out, true)
	}
	e.line = out
}

// decodeRequest decodes one request object; a line that is not JSON is a
// parse error, JSON that is not a request object an invalid request.
func decodeRequest(line []byte, req *request) *Error {
	r := new(request) // json keeps a pointer it is given; req stays on the caller's stack
	if err := json.Unmarshal(line, r); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || !json.Valid(line) {
			return Errorf(CodeParseError, "parse error: %v", err)
		}
		return Errorf(CodeInvalidRequest, "invalid request: %v", err)
	}
	*req = *r
	return nil
}

// call validates a decoded request, checks the caller's role and runs the
// handler. It returns the id to reply with and the result or error;
// reply is false for a notification (no id), which gets no reply, not
// even an error. A *Deferred result is returned as it is, to be settled.
func (sv *server) call(c *conn, req *request) (id json.RawMessage, res any, rerr *Error, reply bool) {
	isNotification := len(req.ID) == 0
	id = req.ID
	if isNotification || !validID(req.ID) {
		// JSON-RPC 2.0 §5: when the id cannot be echoed (an object, an
		// array, a boolean), the error reply carries a null id.
		id = nullID
	}
	if req.JSONRPC != "2.0" || req.Method == "" || !validID(req.ID) {
		if isNotification && req.Method != "" {
			return id, nil, nil, false
		}
		return id, nil, Errorf(CodeInvalidRequest, "invalid request: want jsonrpc \"2.0\", a method and a string, number or null id"), true
	}
	m, ok := sv.methods[req.Method]
	if !ok {
		sv.stats.count("(unknown)", false)
		return id, nil, Errorf(CodeMethodNotFound, "method %q not found", req.Method), !isNotification
	}
	if !m.Allows(c.actor.Role) && !sv.svc.config().widens(c.actor.Role, req.Method) {
		sv.stats.count(req.Method, false)
		sv.svc.denials.log(sv.log, c.actor, req.Method)
		return id, nil, Errorf(CodePermissionDenied, "role %s may not call %s", c.actor.Role, req.Method), !isNotification
	}
	call := &Call{
		Actor:     c.actor,
		Params:    req.Params,
		Notify:    c.notifyFn,
		Done:      c.done,
		Subscribe: c.subscribeFn,
	}
	res, err := safeCall(m.Handler, c.ctx, call)
	if d, ok := res.(*Deferred); ok && err == nil {
		return id, d, nil, !isNotification
	}
	res, rerr = sv.finish(c, req.Method, res, err)
	return id, res, rerr, !isNotification
}

// settle waits for a deferred result. Options.HoldDeferred, a test hook,
// runs first.
func (sv *server) settle(c *conn, method string, d *Deferred) (any, *Error) {
	if hold := sv.svc.opt.HoldDeferred; hold != nil {
		hold(method)
	}
	res, err := safeWait(d)
	return sv.finish(c, method, res, err)
}

// finish counts a call and maps its error onto the wire error, logging
// internal errors (the client sees only a generic message).
func (sv *server) finish(c *conn, method string, res any, err error) (any, *Error) {
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
func safeCall(h Handler, ctx context.Context, call *Call) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("handler panic: " + toString(r))
		}
	}()
	return h(ctx, call)
}

// safeWait is safeCall for a deferred result's wait.
func safeWait(d *Deferred) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("deferred result panic: " + toString(r))
		}
	}()
	if d.Wait == nil {
		return nil, errors.New("deferred result without Wait")
	}
	return d.Wait()
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
