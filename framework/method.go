package framework

import (
	"context"
	"encoding/json"
	"slices"

	"permd/framework/protocol"
)

// Role is what a peer may do, derived from its kernel-verified identity
// and the roles table in config; never from anything the peer says. It
// is the protocol's type: sys.health reports it and the contract lists
// each method's roles.
type Role = protocol.Role

// Roles known to permd. See docs/protocol.md for what each may call.
const (
	RoleFramework    Role = "framework"     // system_server
	RolePermissionUI Role = "permission_ui" // the consent dialog (PermissionController)
	RoleSettings     Role = "settings"      // the Settings app
	RoleSystemUI     Role = "systemui"      // draws the indicators
	RoleShell        Role = "shell"         // adb shell, uid 2000
	RoleRoot         Role = "root"          // uid 0
	RoleApp          Role = "app"           // anything else
)

// AllRoles lists every role, for validation and docs.
var AllRoles = []Role{RoleFramework, RolePermissionUI, RoleSettings, RoleSystemUI, RoleShell, RoleRoot, RoleApp}

// Actor is the identity of the peer on one connection, taken once when
// the connection is accepted.
type Actor struct {
	UID     int    `json:"uid"`
	GID     int    `json:"gid"`
	PID     int    `json:"pid"`
	Context string `json:"context,omitempty"` // SELinux context, "" where the kernel has none
	Role    Role   `json:"role"`
}

// Call carries one request to its handler.
type Call struct {
	Actor  Actor
	Params json.RawMessage
	// Notify sends a JSON-RPC notification on the caller's connection. It
	// never blocks on a slow peer for long: it returns an error when the
	// connection's outgoing queue is full or the connection is closed, and
	// subscription code treats that as "coalesce and retry later".
	Notify func(method string, params any) error
	// Done is closed when the connection closes; subscriptions end then.
	Done <-chan struct{}
	// Subscribe marks the connection as a subscriber: from then on the
	// idle timeout no longer closes it. Call it before replying to a
	// subscribe request.
	Subscribe func()
}

// Handler serves one method. A returned *Error reaches the client as is;
// any other error is logged and reported as an internal error.
type Handler func(ctx context.Context, c *Call) (any, error)

// Method is one row of the method table: its name, who may call it, and
// the handler. Packages contribute rows; the server enforces Roles before
// calling Handler, so a handler never sees a caller it did not allow.
type Method struct {
	Name    string
	Roles   []Role
	Handler Handler
	// Fast marks a handler that never blocks (no commit wait, no scan,
	// no I/O beyond memory): the server runs it on the connection's read
	// goroutine, saving a goroutine hand-off on hot paths. A Fast handler
	// whose reply must wait (for a commit) decides in memory and returns
	// a *Deferred, which the server waits for elsewhere.
	Fast bool
}

// Allows reports whether r may call m.
func (m Method) Allows(r Role) bool { return slices.Contains(m.Roles, r) }

// Readers is the common role set for read-only methods.
var Readers = []Role{RoleFramework, RoleSettings, RoleShell, RoleRoot}

// Deferred is a result whose reply waits for something the handler has
// already set going, such as a record's commit. A Fast handler returns
// it so that the wait happens off the connection's read goroutine: the
// server runs Wait on a goroutine of its own and replies with what it
// returns, while the connection goes on reading and serving. Replies may
// then leave out of order; their ids match them to requests.
type Deferred struct {
	// Wait blocks until the result is ready and returns it as a Handler
	// would.
	Wait func() (any, error)
}
