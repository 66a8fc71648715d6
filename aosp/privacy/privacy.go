// Package privacy is the Privacy Center: the pages that show a person
// what apps did with their permissions (CAC draft Art. 30-32), served on
// a host by `permctl ui`, written as one self-contained file by
// `permctl report --html`, and shipped as static assets for a device
// WebView. The pages only draw figures the daemon's own queries return.
package privacy

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"slices"

	"permd/framework/protocol"
)

//go:embed web
var web embed.FS

// Assets are the static pages (index.html, app.js, app.css): what a
// device WebView loads and `permctl ui` serves. They use relative URLs
// only.
func Assets() fs.FS {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// Methods are the only daemon methods the pages call, and so the only
// ones `permctl ui` forwards. They are forwarded with the caller's own
// identity: the daemon's roles still decide (grants.set is refused to a
// role that may not change grants).
var Methods = []string{
	protocol.MethodSysHealth,
	protocol.MethodRulesGet,
	protocol.MethodGrantsCatalogue,
	protocol.MethodGrantsList,
	protocol.MethodGrantsSet,
	protocol.MethodGrantsRevoke,
	protocol.MethodIndicatorGet,
	protocol.MethodLedgerSummary,
	protocol.MethodLedgerTimeline,
	protocol.MethodLedgerQuery,
	protocol.MethodLedgerVerify,
}

// Allowed reports whether the pages may call method.
func Allowed(method string) bool { return slices.Contains(Methods, method) }

// Source answers the pages' calls: a live daemon (Daemon), a pulled
// database file (File), or the recorded replies of a report. An error
// the daemon returned is a *client.RPCError, passed to the page as is.
type Source interface {
	Call(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error)
}

// Subscriber is a Source that can stream indicator snapshots: send
// delivers each snapshot until ctx ends or the stream fails.
type Subscriber interface {
	SubscribeIndicator(ctx context.Context, send func(json.RawMessage) error) error
}
