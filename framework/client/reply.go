package client

import (
	"bytes"
	"permd/framework/internal/jsonscan"
)

// replyPrefix and replyResult frame every result permd writes:
// {"jsonrpc":"2.0","id":ID,"result":RESULT}. As with notifications, a
// caller's hot path is these lines, and a full decode (a scan to
// validate, a second to skip the result) cost more than the daemon's
// whole handling of sys.health, so a result line with a numeric id is
// split where the daemon put the fields; the result is handed on as
// sent, for the caller to decode. Any other line takes the general path.
const (
	replyPrefix = `{"jsonrpc":"2.0","id":`
	replyResult = `,"result":`
)

// splitResult splits a result line for the call with id.
func splitResult(line []byte) (id uint64, result []byte, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte(replyPrefix))
	if !ok || len(rest) == 0 || rest[len(rest)-1] != '}' {
		return 0, nil, false
	}
	i := 0
	for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
		id = id*10 + uint64(rest[i]-'0')
	}
	// At most 19 digits cannot overflow; a leading zero is not JSON.
	if i == 0 || i > 19 || (i > 1 && rest[0] == '0') || !bytes.HasPrefix(rest[i:], []byte(replyResult)) {
		return 0, nil, false
	}
	result = rest[i+len(replyResult) : len(rest)-1]
	if len(result) == 0 || jsonscan.ValueLen(result) != len(result) {
		return 0, nil, false // not one value: more fields follow
	}
	return id, result, true
}

// deliver hands a reply to the call waiting for it, if any still is.
func (c *Client) deliver(id uint64, r reply) {
	c.mu.Lock()
	ch := c.pending[id]
	c.mu.Unlock()
	if ch != nil {
		ch <- r
	}
}
