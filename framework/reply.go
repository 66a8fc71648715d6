package framework

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
)

// nullID is the id of a reply to a request whose id could not be read or
// echoed (JSON-RPC 2.0 §5).
var nullID = json.RawMessage("null")

// errNotEncodable reports a result or error data that encoding/json
// refused; the reply then carries a generic internal error instead.
var errNotEncodable = errors.New("result not encodable")

// replyEncoder is the one encoder of replies: results, errors and
// null-id errors alike are written by appendReply. Encoders are pooled:
// every call encodes a reply, and fresh buffers showed in profiles.
type replyEncoder struct {
	buf  bytes.Buffer // what enc writes
	enc  *json.Encoder
	line []byte // a reply line being built, reused between calls
}

var replyEncoders = sync.Pool{New: func() any {
	e := &replyEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

func getReplyEncoder() *replyEncoder { return replyEncoders.Get().(*replyEncoder) }

func (e *replyEncoder) put() {
	if cap(e.line) > 64<<10 || e.buf.Cap() > 64<<10 {
		return // a huge reply's buffer is not worth keeping
	}
	e.line = e.line[:0]
	replyEncoders.Put(e)
}

// appendReply appends one reply object to b, without a newline: the
// result when rerr is nil (an empty object for a nil result), else the
// error. id is echoed as it was read. When the result cannot be encoded
// the reply is an internal error and errNotEncodable is returned for the
// caller to log.
func appendReply(b []byte, id json.RawMessage, result any, rerr *Error) ([]byte, error) {
	e := getReplyEncoder()
	defer e.put()
	return e.appendReply(b, id, result, rerr)
}

func (e *replyEncoder) appendReply(b []byte, id json.RawMessage, result any, rerr *Error) ([]byte, error) {
	mark := len(b)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	var err error
	if rerr == nil {
		b = append(b, `,"result":`...)
		if result == nil {
			b = append(b, "{}"...)
		} else if fast, ok := appendResult(b, result); ok {
			b = fast
		} else if b, err = e.appendJSON(b, result); err != nil {
			b, _ = e.appendReply(b[:mark], id, nil, &Error{Code: CodeInternal, Message: "result not encodable"})
			return b, err
		}
	} else {
		b = append(b, `,"error":`...)
		if b, err = e.appendJSON(b, rerr); err != nil {
			// Only Data can fail to encode; the code and message still
			// tell the client what went wrong.
			b, _ = e.appendReply(b[:mark], id, nil, &Error{Code: rerr.Code, Message: rerr.Message})
			return b, err
		}
	}
	return append(b, '}'), err
}

// appendJSON appends v encoded by encoding/json, without HTML escaping
// (the replies go to a socket, not a web page).
func (e *replyEncoder) appendJSON(b []byte, v any) ([]byte, error) {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return b, errors.Join(errNotEncodable, err)
	}
	return append(b, bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'})...), nil
}
