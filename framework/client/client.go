// Package client is a small Go client for permd's JSON-RPC socket
// protocol (docs/protocol.md), used by permctl, the e2e runner and tests.
// Calls may run concurrently; replies are matched to calls by id.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultSocket is the socket init creates on a device.
const DefaultSocket = "/dev/socket/permd"

// RPCError is a JSON-RPC error returned by the daemon.
type RPCError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// Notification is a message the daemon sends without a request
// (subscriptions).
type Notification struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// ErrClosed is returned by calls on a closed client or when the daemon
// closed the connection.
var ErrClosed = errors.New("connection to permd closed")

// Client is one connection to permd.
type Client struct {
	conn   net.Conn
	wmu    sync.Mutex
	w      *bufio.Writer
	nextID atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]chan reply
	err     error // set when the read loop ends
	notes   chan Notification
	done    chan struct{}
}

type reply struct {
	Result json.RawMessage
	Err    *RPCError
}

// Dial connects to the daemon's socket.
func Dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	return New(conn), nil
}

// New wraps an established connection.
func New(conn net.Conn) *Client {
	c := &Client{
		conn:    conn,
		w:       bufio.NewWriter(conn),
		pending: map[uint64]chan reply{},
		notes:   make(chan Notification, 1024),
		done:    make(chan struct{}),
	}
	go c.readLoop()
	return c
}

// Notifications delivers notifications in arrival order. It is closed
// when the connection ends. If the caller does not read, notifications
// beyond the buffer are dropped on this side (the daemon's own
// subscriptions send full snapshots, so the next one corrects the view).
func (c *Client) Notifications() <-chan Notification { return c.notes }

// Done is closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.done }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Call sends a request and waits for its reply, decoding the result into
// result (which may be nil). A JSON-RPC error comes back as *RPCError.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	id := c.nextID.Add(1)
	ch := make(chan reply, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()

	req := struct {
		JSONRPC string `json:"jsonrpc"`
		ID      uint64 `json:"id"`
		Method  string `json:"method"`
		Params  any    `json:"params,omitempty"`
	}{"2.0", id, method, params}
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encode %s params: %w", method, err)
	}
	c.wmu.Lock()
	c.w.Write(b)
	c.w.WriteByte('\n')
	err = c.w.Flush()
	c.wmu.Unlock()
	if err != nil {
		// If the daemon ended the connection with a reason (line too
		// large, too many connections), that reason is the answer, not
		// the write error it caused. The reader sees the end of the
		// connection moments after the writer does: wait for it briefly.
		select {
		case <-time.After(time.Second):
		case <-c.done:
			c.mu.Lock()
			cerr := c.err
			c.mu.Unlock()
			var re *RPCError
			if errors.As(cerr, &re) {
				return re
			}
		}
		return fmt.Errorf("send %s: %w", method, err)
	}
	select {
	case r := <-ch:
		if r.Err != nil {
			return r.Err
		}
		if result != nil {
			if err := json.Unmarshal(r.Result, result); err != nil {
				return fmt.Errorf("decode %s result: %w", method, err)
			}
		}
		return nil
	case <-c.done:
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// WriteRaw sends bytes as they are; tests use it to send malformed input.
func (c *Client) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.w.Write(b)
	return c.w.Flush()
}

func (c *Client) readLoop() {
	sc := bufio.NewScanner(c.conn)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var err error
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) > 0 && line[0] == '[' {
			var batch []json.RawMessage
			if json.Unmarshal(line, &batch) == nil {
				for _, m := range batch {
					c.dispatch(m)
				}
			}
			continue
		}
		if e := c.dispatch(line); e != nil {
			err = e
			break
		}
	}
	if err == nil {
		err = sc.Err()
	}
	if err == nil {
		err = ErrClosed
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	close(c.done)
	close(c.notes)
	c.conn.Close()
}

// notePrefix and noteParams frame every notification permd writes:
// {"jsonrpc":"2.0","method":"NAME","params":PARAMS}. A subscriber's hot
// path is these lines, and a full decode of one (a scan to validate, a
// second to skip the params) costs more than the rest of its delivery,
// so they are split where the daemon put the fields; the params are
// handed on as sent, for the consumer to decode. Any other line takes
// the general path.
const (
	notePrefix = `{"jsonrpc":"2.0","method":"`
	noteParams = `","params":`
)

func splitNotification(line []byte) (method string, params []byte, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte(notePrefix))
	if !ok || len(rest) == 0 || rest[len(rest)-1] != '}' {
		return "", nil, false
	}
	i := bytes.IndexByte(rest, '"')
	if i <= 0 || bytes.IndexByte(rest[:i], '\\') >= 0 || !bytes.HasPrefix(rest[i:], []byte(noteParams)) {
		return "", nil, false
	}
	params = rest[i+len(noteParams) : len(rest)-1]
	if len(params) == 0 || (params[0] != '{' && params[0] != '[') {
		return "", nil, false
	}
	return string(rest[:i]), params, true
}

// dispatch routes one message. A reply with a null id is the daemon
// refusing the connection or the line (too many connections, oversized
// request): it fails every pending call with that error.
func (c *Client) dispatch(line []byte) error {
	if method, params, ok := splitNotification(line); ok {
		select {
		case c.notes <- Notification{Method: method, Params: bytes.Clone(params)}:
		default:
		}
		return nil
	}
	if id, result, ok := splitResult(line); ok {
		c.deliver(id, reply{Result: bytes.Clone(result)})
		return nil
	}
	var m struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
		Result json.RawMessage `json:"result"`
		Error  *RPCError       `json:"error"`
	}
	if err := json.Unmarshal(line, &m); err != nil {
		return fmt.Errorf("bad line from permd: %w", err)
	}
	if m.Method != "" && len(m.ID) == 0 {
		select {
		case c.notes <- Notification{Method: m.Method, Params: m.Params}:
		default:
		}
		return nil
	}
	if len(m.ID) == 0 || string(m.ID) == "null" {
		if m.Error != nil {
			return m.Error
		}
		return nil
	}
	id, err := strconv.ParseUint(string(m.ID), 10, 64)
	if err != nil {
		return nil
	}
	c.deliver(id, reply{Result: m.Result, Err: m.Error})
	return nil
}
