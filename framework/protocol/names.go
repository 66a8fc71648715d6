package protocol

// Method names, as clients send them.
const (
	MethodSysVersion = "sys.version"
	MethodSysHealth  = "sys.health"

	MethodLedgerReport   = "ledger.report"
	MethodLedgerLost     = "ledger.lost"
	MethodLedgerQuery    = "ledger.query"
	MethodLedgerSummary  = "ledger.summary"
	MethodLedgerTimeline = "ledger.timeline"
	MethodLedgerExport   = "ledger.export"
	MethodLedgerVerify   = "ledger.verify"
	MethodRulesGet       = "rules.get"

	MethodPermCheck          = "perm.check"
	MethodPermRequest        = "perm.request"
	MethodPermDecide         = "perm.decide"
	MethodPermAndroidRevoked = "perm.android_revoked"
	MethodAppRemoved         = "app.removed"
	MethodAppState           = "app.state"
	MethodTimeZone           = "time.zone"
	MethodLocFudge           = "loc.fudge"
	MethodLocOffset          = "loc.offset"
	MethodGrantsList         = "grants.list"
	MethodGrantsGet          = "grants.get"
	MethodGrantsSet          = "grants.set"
	MethodGrantsRevoke       = "grants.revoke"
	MethodGrantsCatalogue    = "grants.catalogue"
	MethodPolicySubscribe    = "policy.subscribe"

	MethodOpStart            = "op.start"
	MethodOpFinish           = "op.finish"
	MethodOpHeartbeat        = "op.heartbeat"
	MethodProcDied           = "proc.died"
	MethodIndicatorGet       = "indicator.get"
	MethodIndicatorSubscribe = "indicator.subscribe"

	MethodProcReport = "proc.report"
	MethodProcList   = "proc.list"

	MethodPreinstallStatus = "preinstall.status"
)

// Notification names: what the daemon sends, without an id, to a
// connection that subscribed.
const (
	// NoteIndicatorChanged carries an IndicatorSnapshot after
	// indicator.subscribe.
	NoteIndicatorChanged = "indicator.changed"
	// NotePolicyChanged carries a PolicyChange after policy.subscribe.
	NotePolicyChanged = "policy.changed"
)
