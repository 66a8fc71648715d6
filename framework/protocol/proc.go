package protocol

// ProcReportParams are proc.report's params.
type ProcReportParams struct {
	UID       *int   `json:"uid" rpc:"required"`
	PID       int    `json:"pid,omitempty"`
	Process   string `json:"process,omitempty"`
	Reason    string `json:"reason" rpc:"required"`
	Component string `json:"component,omitempty"`
	Caller    string `json:"caller,omitempty"`
	CallerUID *int   `json:"caller_uid,omitempty"`
	TimeMS    int64  `json:"time_ms,omitempty"`
}

// ProcReportResult is proc.report's result.
type ProcReportResult struct {
	Accepted bool `json:"accepted"`
}

// ProcListParams are proc.list's params, all optional.
type ProcListParams struct {
	UID      *int   `json:"uid,omitempty"`
	Package  string `json:"package,omitempty"`
	AppsOnly bool   `json:"apps_only,omitempty"`
}

// ProcListResult is proc.list's result.
type ProcListResult struct {
	Mode      string      `json:"mode"` // netlink | poll
	Processes []ProcEntry `json:"processes"`
}

// ProcEntry is one process in proc.list.
type ProcEntry struct {
	PID         int      `json:"pid"`
	PPID        int      `json:"ppid"`
	UID         int      `json:"uid"`
	User        int      `json:"user"`
	Name        string   `json:"name"`
	StartTicks  uint64   `json:"start_ticks"`
	OomScoreAdj *int     `json:"oom_score_adj"` // null when unreadable
	Band        string   `json:"band,omitempty"`
	Packages    []string `json:"packages"`
	AppState    string   `json:"app_state,omitempty"`
}
