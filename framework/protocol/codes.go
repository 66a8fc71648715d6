package protocol

// JSON-RPC 2.0 error codes. The -32000..-32099 range is the one JSON-RPC
// leaves to servers; permd's own codes live there. docs/protocol.md
// ("Errors") says what a client should do about each.
const (
	// CodeParseError: the line is not valid JSON. The connection stays
	// usable.
	CodeParseError = -32700
	// CodeInvalidRequest: valid JSON but not a JSON-RPC request (not an
	// object, wrong jsonrpc, an id that is not a string, number or null,
	// an empty or oversized batch).
	CodeInvalidRequest = -32600
	// CodeMethodNotFound: no method of that name.
	CodeMethodNotFound = -32601
	// CodeInvalidParams: a param is missing, unknown, of the wrong type or
	// out of range; the message starts with the field at fault and
	// ErrorData.Field names it as written in the request.
	CodeInvalidParams = -32602
	// CodeInternal: the daemon failed in a way it logged; the message
	// says no more, so internals do not leak to apps.
	CodeInternal = -32603

	// CodePermissionDenied: the caller's role may not call the method
	// (or not with these params, such as another app's records).
	CodePermissionDenied = -32000
	// CodeOverloaded: a limit was reached (connections, pending dialogs,
	// active uses, subscribers); retry later.
	CodeOverloaded = -32001
	// CodeNotFound: the named object (grant, request, use, rules
	// version, package) does not exist.
	CodeNotFound = -32002
	// CodeConflict: the request contradicts current state, such as a
	// second finish of the same use.
	CodeConflict = -32003
	// CodeUnavailable: the daemon is stopping, its storage is failing, or
	// the part that would answer has not started.
	CodeUnavailable = -32004
	// CodeTooLarge: the request line exceeds max_line_bytes; the daemon
	// closes the connection after the reply.
	CodeTooLarge = -32005
)

// ErrorData is the data of a CodeInvalidParams error: the field at
// fault, as the client wrote it (since_ms, records[3].uid, time.mode).
type ErrorData struct {
	Field string `json:"field"`
}

// ErrorInfo describes one error code for the machine-readable contract.
type ErrorInfo struct {
	Code    int
	Name    string // its name in the contract's components/errors
	Message string
}

// Errors lists every error code with a short meaning, in the order
// docs/protocol.md gives them.
var Errors = []ErrorInfo{
	{CodeParseError, "ParseError", "parse error: the line is not JSON"},
	{CodeInvalidRequest, "InvalidRequest", "invalid request: not a JSON-RPC request object, bad id, empty or oversized batch"},
	{CodeMethodNotFound, "MethodNotFound", "method not found"},
	{CodeInvalidParams, "InvalidParams", "invalid params; data.field names the field at fault"},
	{CodeInternal, "Internal", "internal error"},
	{CodePermissionDenied, "PermissionDenied", "permission denied: the caller's role may not call this method"},
	{CodeOverloaded, "Overloaded", "overloaded: a limit was reached; retry with backoff"},
	{CodeNotFound, "NotFound", "not found: the named object does not exist"},
	{CodeConflict, "Conflict", "conflict: the request contradicts current state"},
	{CodeUnavailable, "Unavailable", "unavailable: the daemon is stopping or its storage is failing"},
	{CodeTooLarge, "TooLarge", "request line too large; the connection is closed"},
}
