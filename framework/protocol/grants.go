package protocol

import "time"

// Grant is the user's choice for one (user, package, category), as every
// grants method returns it.
type Grant struct {
	User     int    `json:"user"`
	Package  string `json:"package"`
	Category string `json:"category"`
	// UID is the app's uid when known, else 0 (absent).
	UID int `json:"uid,omitempty"`
	// Decision is "allow" or "deny".
	Decision  string     `json:"decision"`
	Time      TimeRule   `json:"time"`
	Frequency *Frequency `json:"frequency,omitempty"`
	Precision Precision  `json:"precision"`
	// Set, By and Version are stamped by the daemon.
	Set     time.Time `json:"set,omitzero"`
	By      string    `json:"by,omitempty"`
	Version int64     `json:"version,omitempty"`
}

// TimeRule says when a grant applies.
type TimeRule struct {
	Mode       string    `json:"mode"`             // once | while_in_use | duration | until | window | always
	For        string    `json:"for,omitempty"`    // a duration grant's length ("24h")
	Until      time.Time `json:"until,omitzero"`   // an until grant's end
	Window     string    `json:"window,omitempty"` // a daily window "09:00-18:00"
	Background bool      `json:"background,omitempty"`
}

// Frequency caps accesses per window.
type Frequency struct {
	Max int    `json:"max"`
	Per string `json:"per"` // minute | hour | day | session
}

// Precision is the granted level and its parameters.
type Precision struct {
	Level   string   `json:"level"`
	RadiusM int      `json:"radius_m,omitempty"` // for a custom level
	Items   []string `json:"items,omitempty"`    // for a selected level: the ids the user chose
}

// CheckParams are perm.check's params.
type CheckParams struct {
	UID      *int   `json:"uid" rpc:"required"`
	Package  string `json:"package,omitempty"`
	Category string `json:"category,omitempty"`
	Op       string `json:"op,omitempty"`
	State    string `json:"state,omitempty"` // foreground | visible | background | not_running
}

// Decision is perm.check's result: whether and how to serve one access.
type Decision struct {
	Allowed   bool     `json:"allowed"`
	Result    string   `json:"result"` // allowed | denied | reduced | decoy | rate_limited
	Reason    string   `json:"reason"`
	Package   string   `json:"package,omitempty"`
	Category  string   `json:"category"`
	Level     string   `json:"level,omitempty"`
	Effect    string   `json:"effect,omitempty"`
	RadiusM   int      `json:"radius_m,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	Items     []string `json:"items,omitempty"`
	Remaining int64    `json:"remaining"` // accesses left in the window, -1 without a limit
	AppState  string   `json:"app_state"`
}

// RequestParams are perm.request's params.
type RequestParams struct {
	UID      *int   `json:"uid" rpc:"required"`
	Package  string `json:"package" rpc:"required"`
	Category string `json:"category,omitempty"`
	Op       string `json:"op,omitempty"`
	Lang     string `json:"lang,omitempty"` // en | zh-CN
}

// RequestResult is perm.request's result: a standing grant, or a dialog
// to show.
type RequestResult struct {
	Status    string  `json:"status"` // granted | denied | ask
	Grant     *Grant  `json:"grant,omitempty"`
	RequestID string  `json:"request_id,omitempty"`
	Dialog    *Dialog `json:"dialog,omitempty"`
}

// Dialog is what the consent dialog shows for an ask.
type Dialog struct {
	Lang        string   `json:"lang"`
	Category    string   `json:"category"`
	Icon        string   `json:"icon"`
	Title       string   `json:"title"`
	Risk        string   `json:"risk"`
	TimeModes   []Option `json:"time_modes"`
	Durations   []string `json:"durations"`
	Background  string   `json:"background"` // allowed | explicit | never
	Levels      []Option `json:"levels,omitempty"`
	Frequency   []string `json:"frequency_windows,omitempty"`
	Preselected Grant    `json:"preselected"`
}

// Option is one choice the dialog offers.
type Option struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	Effect  string `json:"effect,omitempty"`
	RadiusM int    `json:"radius_m,omitempty"`
	Custom  bool   `json:"custom,omitempty"`
}

// GrantParams is a grant as clients send it: perm.decide (with a
// request_id, or uid, package and category) and grants.set.
type GrantParams struct {
	RequestID string     `json:"request_id,omitempty"`
	User      *int       `json:"user,omitempty"`
	UID       *int       `json:"uid,omitempty"`
	Package   string     `json:"package,omitempty"`
	Category  string     `json:"category,omitempty"`
	Decision  string     `json:"decision,omitempty"` // allow (default) | deny
	Time      TimeRule   `json:"time,omitzero"`
	Frequency *Frequency `json:"frequency,omitempty"`
	Precision Precision  `json:"precision,omitzero"`
}

// GrantResult is the result of perm.decide and grants.set.
type GrantResult struct {
	Grant Grant `json:"grant"`
}

// GrantKey names one grant (grants.revoke, perm.android_revoked).
type GrantKey struct {
	User     int    `json:"user,omitempty"` // default 0
	Package  string `json:"package" rpc:"required"`
	Category string `json:"category" rpc:"required"`
}

// GrantsGetParams are grants.get's params.
type GrantsGetParams struct {
	GrantKey
	History int `json:"history,omitempty"` // default 50, at most 10000
}

// RevokeResult is the result of grants.revoke and perm.android_revoked.
type RevokeResult struct {
	Revoked Grant `json:"revoked"`
}

// GrantsGetResult is grants.get's result.
type GrantsGetResult struct {
	Grant   *Grant         `json:"grant"` // null when there is none
	History []HistoryEntry `json:"history"`
}

// HistoryEntry is one past change of a grant.
type HistoryEntry struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"` // set | revoke | expire
	By     string    `json:"by"`
	Grant  *Grant    `json:"grant,omitempty"`
}

// GrantsListParams are grants.list's filters, all optional.
type GrantsListParams struct {
	User     *int   `json:"user,omitempty"`
	Package  string `json:"package,omitempty"`
	Category string `json:"category,omitempty"`
	UID      int    `json:"uid,omitempty"`
}

// GrantsListResult is grants.list's result.
type GrantsListResult struct {
	Grants []Grant `json:"grants"`
}

// CatalogueParams are grants.catalogue's params.
type CatalogueParams struct {
	Lang string `json:"lang,omitempty"` // en | zh-CN; default every language
}

// Text is a text in several languages, by language tag.
type Text map[string]string

// Catalogue is grants.catalogue's result: the Art. 30 categories and the
// options the dialog and Settings offer.
type Catalogue struct {
	Version          int             `json:"version"`
	Durations        []string        `json:"durations"`
	FrequencyWindows []string        `json:"frequency_windows"`
	Categories       []Category      `json:"categories"`
	TimeLabels       map[string]Text `json:"time_labels"`
	Titles           Text            `json:"titles"`
}

// Category is one Art. 30 permission category.
type Category struct {
	ID           string   `json:"id"`
	Code         int      `json:"code"`
	Icon         string   `json:"icon"`
	Label        Text     `json:"label"`
	Risk         Text     `json:"risk"`
	Permissions  []string `json:"permissions"`
	AppOps       []string `json:"app_ops"`
	Dimensions   []string `json:"dimensions"`
	TimeModes    []string `json:"time_modes"`
	Background   string   `json:"background"`
	Levels       []Level  `json:"levels"`
	DefaultLevel string   `json:"default_level"`
}

// Level is one precision level of a category.
type Level struct {
	ID         string `json:"id"`
	Effect     string `json:"effect"` // full | radius | selected | subset | empty
	RadiusM    int    `json:"radius_m,omitempty"`
	Custom     bool   `json:"custom,omitempty"`
	MinRadiusM int    `json:"min_radius_m,omitempty"`
	MaxRadiusM int    `json:"max_radius_m,omitempty"`
	Scope      string `json:"scope,omitempty"`
	Label      Text   `json:"label"`
}

// AppStateParams are app.state's params.
type AppStateParams struct {
	UID   *int   `json:"uid" rpc:"required"`
	State string `json:"state" rpc:"required"` // foreground | visible | background | not_running
}

// FudgeParams are loc.fudge's params.
type FudgeParams struct {
	UID       *int     `json:"uid" rpc:"required"`
	Package   string   `json:"package,omitempty"`
	Lat       *float64 `json:"lat" rpc:"required"`
	Lon       *float64 `json:"lon" rpc:"required"`
	AccuracyM float64  `json:"accuracy_m,omitempty"`
}

// FudgeResult is loc.fudge's result.
type FudgeResult struct {
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
	AccuracyM float64 `json:"accuracy_m"`
	RadiusM   int     `json:"radius_m"`
	Level     string  `json:"level"`
}

// OffsetParams are loc.offset's params.
type OffsetParams struct {
	User *int `json:"user" rpc:"required"`
}

// OffsetResult is loc.offset's result.
type OffsetResult struct {
	User   int     `json:"user"`
	X      float64 `json:"x"`
	Y      float64 `json:"y"`
	NextMS int64   `json:"next_ms"`
}

// TimeZoneParams are time.zone's params; without zone it only reports.
type TimeZoneParams struct {
	Zone *string `json:"zone,omitempty"`
}

// TimeZoneResult is time.zone's result; Previous is set when a zone was
// given.
type TimeZoneResult struct {
	Zone     string `json:"zone"`
	Previous string `json:"previous,omitempty"`
}

// AppRemovedParams are app.removed's params.
type AppRemovedParams struct {
	UID     *int   `json:"uid" rpc:"required"`
	Package string `json:"package" rpc:"required"`
}

// AppRemovedResult is app.removed's result.
type AppRemovedResult struct {
	Revoked []Grant `json:"revoked"`
}

// PolicySnapshot is policy.subscribe's result and the snapshot a
// policy.changed may carry.
type PolicySnapshot struct {
	Seq uint64 `json:"seq"`
	// TimeZone is the IANA zone of daily windows and day limits; "" means
	// the device's local zone.
	TimeZone   string           `json:"time_zone"`
	Categories []PolicyCategory `json:"categories"`
	Grants     []Grant          `json:"grants"`
}

// PolicyCategory is a catalogue category with what an evaluator needs.
type PolicyCategory struct {
	ID           string  `json:"id"`
	Background   string  `json:"background"`
	DefaultLevel string  `json:"default_level"`
	Levels       []Level `json:"levels"`
}

// PolicyChange is a policy.changed notification's params: exactly one
// of Set, Removed and Snapshot.
type PolicyChange struct {
	Seq      uint64          `json:"seq"`
	Set      *Grant          `json:"set,omitempty"`
	Removed  *PolicyRemoved  `json:"removed,omitempty"`
	Snapshot *PolicySnapshot `json:"snapshot,omitempty"`
}

// PolicyRemoved names a grant that ended. Version lets a cache ignore a
// removal of a grant it already holds a newer version of.
type PolicyRemoved struct {
	User     int    `json:"user"`
	Package  string `json:"package"`
	Category string `json:"category"`
	Version  int64  `json:"version"`
	Action   string `json:"action"` // revoke | expire
}
