package protocol

import "time"

// OpStartParams are op.start's params.
type OpStartParams struct {
	Resource string  `json:"resource" rpc:"required"` // a category code
	UID      *int    `json:"uid" rpc:"required"`      // the app using the resource, not a proxy
	Package  string  `json:"package" rpc:"required"`
	PID      int     `json:"pid,omitempty"`
	Op       string  `json:"op,omitempty"`
	Via      []Proxy `json:"via,omitempty"` // at most 4
}

// Proxy is one proxy in op.start's via list.
type Proxy struct {
	UID     *int   `json:"uid" rpc:"required"`
	Package string `json:"package,omitempty"`
	PID     int    `json:"pid,omitempty"`
}

// OpStartResult is op.start's result.
type OpStartResult struct {
	Use       uint64 `json:"use"` // keep it for op.finish and op.heartbeat
	Indicated bool   `json:"indicated"`
	Seq       uint64 `json:"seq"`
}

// OpFinishParams are op.finish's params.
type OpFinishParams struct {
	Use *uint64 `json:"use" rpc:"required"`
}

// SeqResult is op.finish's result: the snapshot seq after the change.
type SeqResult struct {
	Seq uint64 `json:"seq"`
}

// OpHeartbeatParams are op.heartbeat's params.
type OpHeartbeatParams struct {
	Uses []uint64 `json:"uses" rpc:"required"` // 1..4096 ids
}

// OpHeartbeatResult is op.heartbeat's result.
type OpHeartbeatResult struct {
	Active []uint64 `json:"active"`
	Ended  []uint64 `json:"ended"`
}

// ProcDiedParams are proc.died's params; pid 0 or absent means every
// process of the uid.
type ProcDiedParams struct {
	UID *int `json:"uid" rpc:"required"`
	PID int  `json:"pid,omitempty"`
}

// ProcDiedResult is proc.died's result.
type ProcDiedResult struct {
	Ended int `json:"ended"`
}

// IndicatorSnapshot is the whole shown state: indicator.get's and
// indicator.subscribe's result and every indicator.changed's params.
type IndicatorSnapshot struct {
	// Seq increases with every change of what is shown; apply a snapshot
	// only if its Seq is greater than the one you hold.
	Seq       uint64          `json:"seq"`
	Time      time.Time       `json:"time"`
	Resources []ResourceState `json:"resources"`
}

// ResourceState is one indicated resource.
type ResourceState struct {
	Resource string            `json:"resource"`
	Icon     string            `json:"icon"`
	Labels   map[string]string `json:"labels"`
	On       bool              `json:"on"`
	Apps     []AppShown        `json:"apps"`
}

// AppShown is one app shown under a resource.
type AppShown struct {
	UID     int    `json:"uid"`
	Package string `json:"package"`
	// Active is how many of the app's uses are running now; 0 means it
	// is shown only for the hold, until HeldUntil.
	Active    int        `json:"active"`
	Since     time.Time  `json:"since"`
	HeldUntil *time.Time `json:"held_until,omitempty"`
	Via       []Party    `json:"via,omitempty"`
}

// Party is a proxy that acted for a shown app.
type Party struct {
	UID     int    `json:"uid"`
	Package string `json:"package,omitempty"`
	PID     int    `json:"pid,omitempty"`
}
