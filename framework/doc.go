// Package framework is permd's service: the unix-socket JSON-RPC server,
// peer identity and roles, configuration and its reload, and the wiring
// that connects the grants, ledger and indicator packages to their
// sources. It is the only package that knows about sockets; the others
// are plain libraries that framework feeds in one direction:
// source → framework → grants → ledger → indicator → subscribers.
package framework

import "bytes"

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
