package framework

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"permd/aosp/etc"
	"permd/framework/protocol"
)

// ProtocolVersion is the version of the wire protocol described in
// docs/protocol.md (protocol.Version).
const ProtocolVersion = protocol.Version

// JSON-RPC 2.0 error codes, named here for the handlers; package
// protocol defines them for server and clients alike and says when each
// is used.
const (
	CodeParseError     = protocol.CodeParseError
	CodeInvalidRequest = protocol.CodeInvalidRequest
	CodeMethodNotFound = protocol.CodeMethodNotFound
	CodeInvalidParams  = protocol.CodeInvalidParams
	CodeInternal       = protocol.CodeInternal

	CodePermissionDenied = protocol.CodePermissionDenied
	CodeOverloaded       = protocol.CodeOverloaded
	CodeNotFound         = protocol.CodeNotFound
	CodeConflict         = protocol.CodeConflict
	CodeUnavailable      = protocol.CodeUnavailable
	CodeTooLarge         = protocol.CodeTooLarge
)

// Error is a JSON-RPC error object. Handlers return it (or wrap it) to
// choose the code a client sees; any other error becomes CodeInternal with
// a generic message so that internals do not leak to apps.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidParams returns a CodeInvalidParams error that names the field at
// fault, so a client author can tell what to fix without reading our code.
func InvalidParams(field, format string, args ...any) *Error {
	return &Error{
		Code:    CodeInvalidParams,
		Message: field + ": " + fmt.Sprintf(format, args...),
		Data:    map[string]string{"field": field},
	}
}

// NotFound returns a CodeNotFound error.
func NotFound(format string, args ...any) *Error { return Errorf(CodeNotFound, format, args...) }

// asRPCError maps any handler error onto the wire error.
func asRPCError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if e := storageRPCError(err); e != nil {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error"}
}

// request is one JSON-RPC request or notification as read from the wire.
// ID is kept raw: JSON-RPC allows strings, numbers and null, and we must
// echo it back byte for byte.
type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

type notification struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params,omitempty"`
}

// DecodeParams unmarshals params into v, rejecting unknown fields so that
// a misspelt field is reported instead of silently ignored. Absent params
// decode as an empty object.
func DecodeParams(params json.RawMessage, v any) error {
	switch string(params) {
	case "", "null", "{}":
		// Nothing to decode: skip the decoder, which costs more than
		// the cheapest methods themselves.
		return nil
	}
	if decodeFlat(params, v) {
		return nil
	}
	dec := json.NewDecoder(bytesReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return paramsError(err, params, v)
	}
	return nil
}

// paramsError describes a decoding failure of raw into v, naming the
// field as the client wrote it.
func paramsError(err error, raw []byte, v any) *Error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		field := wireField(ute, raw, v)
		if field == "" {
			field = "params"
		}
		msg, _ := etc.TypeProblem(ute)
		return InvalidParams(field, "%s", msg)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return InvalidParams("params", "malformed JSON at offset %d", se.Offset)
	}
	msg := err.Error()
	// encoding/json reports unknown fields as `json: unknown field "x"`.
	const unk = "json: unknown field "
	if len(msg) > len(unk) && msg[:len(unk)] == unk {
		return InvalidParams(unknownFieldPath(raw, v, trimQuotes(msg[len(unk):])), "unknown field")
	}
	return InvalidParams("params", "%s", msg)
}

func trimQuotes(s string) string {
	// encoding/json quotes the key with %q; unquote it so that the name
	// is the key itself.
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
