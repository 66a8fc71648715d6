// Package protocol is permd's wire contract in Go: the JSON-RPC error
// codes, the method and notification names, and the params and result
// of every method, with the JSON names clients see. The daemon's
// handlers return these types and its clients (framework/client,
// permctl, the e2e runner, the Privacy Center) decode into them, so the
// two sides cannot drift apart; docs/openrpc.json is generated from them.
//
// It imports only the standard library: a device binary or a host tool
// can link it without pulling in the daemon.
package protocol

// Version is the version of the wire protocol described in
// docs/protocol.md (sys.version returns it as protocol). It changes only
// when an existing method changes incompatibly; new methods and new
// optional fields do not bump it.
const Version = 1
