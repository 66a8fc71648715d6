package protocol

import (
	"reflect"
	"slices"
)

// Spec is the wire shape of one method: the Go types its params decode
// into and its result encodes from. The method table in the daemon says
// who may call it; this says what goes over the wire.
type Spec struct {
	Name    string
	Summary string
	Params  reflect.Type
	Result  reflect.Type
	// Notes are the notifications a call starts (subscriptions).
	Notes []string
}

// NoteSpec is the wire shape of one notification.
type NoteSpec struct {
	Name    string
	Summary string
	Params  reflect.Type
}

func spec[P, R any](name, summary string, notes ...string) Spec {
	return Spec{Name: name, Summary: summary, Params: reflect.TypeFor[P](), Result: reflect.TypeFor[R](), Notes: notes}
}

// specs lists every method, in the order docs/protocol.md documents them.
var specs = []Spec{
	spec[NoParams, VersionInfo](MethodSysVersion, "daemon and protocol version"),
	spec[HealthParams, Health](MethodSysHealth, "liveness, storage and, with detail, per-method and per-part figures"),

	spec[ReportParams, ReportResult](MethodLedgerReport, "record observed events; replies after the commit"),
	spec[LostParams, LostResult](MethodLedgerLost, "record a reporter's own losses as an overload row"),
	spec[QueryParams, Page](MethodLedgerQuery, "rows of the record, newest first, paged"),
	spec[SummaryParams, SummaryResult](MethodLedgerSummary, "counts per app and category"),
	spec[TimelineParams, TimelineResult](MethodLedgerTimeline, "counts per hour or day"),
	spec[ExportParams, Page](MethodLedgerExport, "rows in write order with their hashes, paged"),
	spec[NoParams, VerifyResult](MethodLedgerVerify, "check the file and every row's hash chain"),
	spec[RulesParams, Rules](MethodRulesGet, "the published recording rules in force or of a version"),

	spec[CheckParams, Decision](MethodPermCheck, "decide one access and record it (hot path)"),
	spec[RequestParams, RequestResult](MethodPermRequest, "an app asks for a category: a standing grant or a dialog"),
	spec[GrantParams, GrantResult](MethodPermDecide, "record the user's dialog choice"),
	spec[GrantKey, RevokeResult](MethodPermAndroidRevoked, "Android's own permission state was revoked outside permd"),
	spec[AppStateParams, Empty](MethodAppState, "an app's state changed"),
	spec[AppRemovedParams, AppRemovedResult](MethodAppRemoved, "a package was removed for one user"),
	spec[TimeZoneParams, TimeZoneResult](MethodTimeZone, "the device's time zone changed, or report the zone in force"),
	spec[FudgeParams, FudgeResult](MethodLocFudge, "coarsen a fix to the app's granted precision"),
	spec[OffsetParams, OffsetResult](MethodLocOffset, "one user's secret location offset, for system_server"),
	spec[GrantsListParams, GrantsListResult](MethodGrantsList, "current grants"),
	spec[GrantsGetParams, GrantsGetResult](MethodGrantsGet, "one grant and its history"),
	spec[GrantParams, GrantResult](MethodGrantsSet, "set a grant from Settings or the shell"),
	spec[GrantKey, RevokeResult](MethodGrantsRevoke, "revoke a grant"),
	spec[CatalogueParams, Catalogue](MethodGrantsCatalogue, "the Art. 30 categories and their options"),
	spec[NoParams, PolicySnapshot](MethodPolicySubscribe, "the grant policy, then every change", NotePolicyChanged),

	spec[OpStartParams, OpStartResult](MethodOpStart, "a use of a resource begins"),
	spec[OpFinishParams, SeqResult](MethodOpFinish, "a use ends"),
	spec[OpHeartbeatParams, OpHeartbeatResult](MethodOpHeartbeat, "renew long uses"),
	spec[ProcDiedParams, ProcDiedResult](MethodProcDied, "a process died: end its uses"),
	spec[NoParams, IndicatorSnapshot](MethodIndicatorGet, "what the indicators show now"),
	spec[NoParams, IndicatorSnapshot](MethodIndicatorSubscribe, "what the indicators show now, then every change", NoteIndicatorChanged),

	spec[ProcReportParams, ProcReportResult](MethodProcReport, "a process start the framework caused"),
	spec[ProcListParams, ProcListResult](MethodProcList, "the process table now"),

	spec[PreinstallParams, PreinstallStatus](MethodPreinstallStatus, "the last preinstall audit"),
}

var notes = []NoteSpec{
	{Name: NoteIndicatorChanged, Summary: "the whole indicator snapshot after a change", Params: reflect.TypeFor[IndicatorSnapshot]()},
	{Name: NotePolicyChanged, Summary: "one grant set or removed, or a whole snapshot", Params: reflect.TypeFor[PolicyChange]()},
}

// Specs returns every method's wire shape.
func Specs() []Spec { return slices.Clone(specs) }

// Lookup returns the wire shape of the named method.
func Lookup(name string) (Spec, bool) {
	i := slices.IndexFunc(specs, func(s Spec) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, false
	}
	return specs[i], true
}

// Notes returns every notification's wire shape.
func Notes() []NoteSpec { return slices.Clone(notes) }
