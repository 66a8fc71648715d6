// Package framework is permd's service: the unix-socket JSON-RPC server,
// peer identity and roles, configuration and its reload, and the wiring
// of the domain packages to their sources.
//
// It is the middle of a star (docs/architecture.md). Requests on the
// socket, the logd event log, /proc, packages.list and the config dir
// come in here; framework asks grants to decide, tells indicator what is
// in use, and hands every observation to ledger, which in turn feeds
// frequency counts back to grants (grants.Counter) and takes the
// indicator's use records. Subscribers get indicator snapshots and policy
// changes on their own connection. grants, indicator and ledger never
// import framework and know nothing of sockets; ledger imports neither
// grants nor indicator (aosp/layering_test.go keeps both rules).
//
// Service.wire connects the parts explicitly: each gets the parts it
// depends on as typed fields, in start order (identity, ledger, grants,
// indicator, process tracking, preinstall audit); none finds another
// through a type assertion.
package framework

import "bytes"

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
