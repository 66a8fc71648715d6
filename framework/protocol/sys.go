package protocol

// Role is what a peer may do, derived by the daemon from its
// kernel-verified identity and the roles table in config, never from
// anything the peer says.
type Role string

// Actor is the identity of the peer on one connection, as the daemon
// took it when the connection was accepted (sys.health's you).
type Actor struct {
	UID     int    `json:"uid"`
	GID     int    `json:"gid"`
	PID     int    `json:"pid"`
	Context string `json:"context,omitempty"` // SELinux context, "" where the kernel has none
	Role    Role   `json:"role"`
}

// NoParams is the params of a method that takes none: absent, null or {}.
type NoParams struct{}

// Empty is the result of a method that has nothing to say but "done": {}.
type Empty struct{}

// VersionInfo is sys.version's result.
type VersionInfo struct {
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	Driver   string `json:"sqlite_driver"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// HealthParams are sys.health's params.
type HealthParams struct {
	// Detail adds per-method call counts and each part's figures; only
	// the roles that read every app's records may ask for it.
	Detail bool `json:"detail,omitempty"`
}

// Health is sys.health's result.
type Health struct {
	Status        string                 `json:"status"` // "ok" or "degraded"
	UptimeMS      int64                  `json:"uptime_ms"`
	Storage       StorageHealth          `json:"storage"`
	Connections   int                    `json:"connections"`
	ConfigDir     string                 `json:"config_dir"`
	ConfigLoads   uint64                 `json:"config_reloads"`
	ConfigRejects uint64                 `json:"config_rejects"`
	QueueDepth    int                    `json:"queue_depth"`       // ledger records waiting for the writer
	Dropped       int64                  `json:"dropped"`           // ledger records lost to overload since start (each loss is itself recorded)
	Methods       map[string]MethodCount `json:"methods,omitempty"` // only with {"detail": true}
	// Parts holds each capability's own figures (only with detail). Each
	// part's object is described in its section of docs/protocol.md and
	// grows with the part, so it is not fixed here.
	Parts map[string]any `json:"parts,omitempty"`
	You   Actor          `json:"you"`
}

// MethodCount is the number of calls of one method since start.
type MethodCount struct {
	OK     uint64 `json:"ok"`
	Failed uint64 `json:"failed"`
}

// StorageHealth says whether the database answers, is sound and can be
// written now; Error says why not.
type StorageHealth struct {
	OK     bool   `json:"ok"`
	Driver string `json:"driver"`
	Error  string `json:"error,omitempty"`
	// Path is the database file.
	Path string `json:"path"`
	// FreeBytes is the space left to permd on the data dir's filesystem.
	FreeBytes int64 `json:"free_bytes"`
	// Integrity lists what the last structural check found wrong.
	Integrity []string `json:"integrity,omitempty"`
	// IntegrityChecking is true while the check made at start runs.
	IntegrityChecking bool `json:"integrity_checking,omitempty"`
	// WriteFailingSinceMS is when commits began to fail, 0 when they do not.
	WriteFailingSinceMS int64 `json:"write_failing_since_ms,omitempty"`
	// Unrecorded counts records not written yet; each is recorded in an
	// overload row once a commit succeeds.
	Unrecorded int64 `json:"unrecorded,omitempty"`
}
