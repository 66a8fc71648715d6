package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"permd/framework/protocol"
)

// writer roles: what system_server does. Root stands in for it where a
// test client cannot be system_server.
var writerRoles = []string{"framework", "root"}

// Scenarios are the end-to-end checks, in the order they run: later ones
// read what earlier ones recorded.
var Scenarios = []Scenario{
	{"service starts and is healthy", serviceHealthy},
	{"framework requests and checks a permission", requestAndCheck},
	{"camera indicator turns on and off", indicatorOnOff},
	{"background associated start is recorded", backgroundStart},
	{"ledger is queried and verified", ledgerQueryVerify},
	{"preinstall audit runs", preinstallAudit},
}

func serviceHealthy(ctx context.Context, s *Session) error {
	var h protocol.Health
	if err := s.call(ctx, protocol.MethodSysHealth, nil, &h); err != nil {
		return err
	}
	if h.Status != "ok" || !h.Storage.OK {
		return fmt.Errorf("sys.health: status %q, storage ok=%v %s; want ok", h.Status, h.Storage.OK, h.Storage.Error)
	}
	var v protocol.VersionInfo
	if err := s.call(ctx, protocol.MethodSysVersion, nil, &v); err != nil {
		return err
	}
	if v.Protocol != protocol.Version {
		return fmt.Errorf("sys.version: protocol %d, want %d", v.Protocol, protocol.Version)
	}
	s.Logf("permd %s on %s, sqlite %s", v.Version, v.Platform, h.Storage.Driver)
	return nil
}

func requestAndCheck(ctx context.Context, s *Session) error {
	if err := s.needRole(writerRoles...); err != nil {
		return err
	}
	var req protocol.RequestResult
	err := s.call(ctx, protocol.MethodPermRequest, protocol.RequestParams{UID: &s.UID, Package: s.Pkg, Category: "camera", Lang: "en"}, &req)
	if err != nil {
		return err
	}
	if req.Status == "" {
		return fmt.Errorf("perm.request: no status in %s", mustJSON(req))
	}
	s.Logf("perm.request camera: status %s", req.Status)

	var chk protocol.Decision
	err = s.call(ctx, protocol.MethodPermCheck, protocol.CheckParams{UID: &s.UID, Package: s.Pkg, Category: "camera", State: "foreground"}, &chk)
	if err != nil {
		return err
	}
	if !slices.Contains([]string{"allowed", "denied", "reduced", "decoy", "rate_limited"}, chk.Result) {
		return fmt.Errorf("perm.check: want a ledger result code, got %s", mustJSON(chk))
	}
	if chk.Allowed != (chk.Result == "allowed" || chk.Result == "reduced") {
		return fmt.Errorf("perm.check: allowed=%v contradicts result %q", chk.Allowed, chk.Result)
	}
	s.Logf("perm.check camera: allowed=%v result=%s", chk.Allowed, chk.Result)
	return nil
}

// resourceState finds resource res in an indicator.get snapshot.
func resourceState(snap protocol.IndicatorSnapshot, res string) (on bool, uids []int, found bool) {
	for _, r := range snap.Resources {
		if r.Resource != res {
			continue
		}
		for _, a := range r.Apps {
			uids = append(uids, a.UID)
		}
		return r.On, uids, true
	}
	return false, nil, false
}

func indicatorOnOff(ctx context.Context, s *Session) error {
	if err := s.needRole(writerRoles...); err != nil {
		return err
	}
	var started protocol.OpStartResult
	err := s.call(ctx, protocol.MethodOpStart, protocol.OpStartParams{Resource: "camera", UID: &s.UID, Package: s.Pkg, Op: "android:camera"}, &started)
	if err != nil {
		return err
	}
	use := started.Use
	if use == 0 {
		return fmt.Errorf("op.start: no use id in %s", mustJSON(started))
	}
	var snap protocol.IndicatorSnapshot
	if err := s.call(ctx, protocol.MethodIndicatorGet, nil, &snap); err != nil {
		return err
	}
	on, uids, found := resourceState(snap, "camera")
	if !found || !on || !slices.Contains(uids, s.UID) {
		return fmt.Errorf("after op.start: camera indicator on=%v apps=%v (found=%v), want on for uid %d", on, uids, found, s.UID)
	}
	s.Logf("camera on for uid %d (use %d)", s.UID, use)
	if err := s.call(ctx, protocol.MethodOpFinish, protocol.OpFinishParams{Use: &use}, nil); err != nil {
		return err
	}
	// The indicator stays on for the hold time (5 s by default) after
	// the use ends, so a short use is still seen; then it must go off.
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for {
		if err := s.call(ctx, protocol.MethodIndicatorGet, nil, &snap); err != nil {
			return err
		}
		on, uids, _ = resourceState(snap, "camera")
		if !on || !slices.Contains(uids, s.UID) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("camera indicator still on for uid %d 30 s after op.finish (stuck indicator)", s.UID)
		}
		time.Sleep(250 * time.Millisecond)
	}
	s.Logf("camera off %s after op.finish", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// startReport is what system_server sends when it starts an app's
// process for another app in the background (an associated start).
func startReport(s *Session) protocol.ProcReportParams {
	return protocol.ProcReportParams{
		UID:       &s.UID,
		Process:   s.Pkg,
		Reason:    "broadcast",
		Component: s.Pkg + "/.E2eReceiver",
		Caller:    s.Caller.Package,
		CallerUID: &s.Caller.UID,
	}
}

// waitEvents polls ledger.query until filter matches at least one event.
func waitEvents(ctx context.Context, s *Session, filter protocol.Filter, within time.Duration) ([]protocol.Event, error) {
	deadline := time.Now().Add(within)
	for {
		var page protocol.Page
		if err := s.call(ctx, protocol.MethodLedgerQuery, protocol.QueryParams{Filter: filter}, &page); err != nil {
			return nil, err
		}
		if len(page.Events) > 0 {
			return page.Events, nil
		}
		if time.Now().After(deadline) {
			return nil, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func backgroundStart(ctx context.Context, s *Session) error {
	if err := s.needRole(writerRoles...); err != nil {
		return err
	}
	since := time.Now().Add(-time.Second).UnixMilli()
	if err := s.call(ctx, protocol.MethodProcReport, startReport(s), nil); err != nil {
		return err
	}
	ev, err := waitEvents(ctx, s, protocol.Filter{UID: &s.UID, Kind: "associated_start", Since: since}, 10*time.Second)
	if err != nil {
		return err
	}
	if len(ev) == 0 {
		return fmt.Errorf("no associated_start row for uid %d in the ledger 10 s after proc.report%s", s.UID, droppedReasons(ctx, s))
	}
	detail := string(ev[0].Detail)
	if !strings.Contains(detail, s.Caller.Package) && !strings.Contains(detail, fmt.Sprint(s.Caller.UID)) {
		return fmt.Errorf("associated_start row does not name the caller %s: %s", s.Caller.Package, mustJSON(ev[0]))
	}
	s.Logf("associated_start recorded: %s", detail)
	return nil
}

func ledgerQueryVerify(ctx context.Context, s *Session) error {
	ev, err := waitEvents(ctx, s, protocol.Filter{UID: &s.UID}, 5*time.Second)
	if err != nil {
		return err
	}
	if len(ev) == 0 && slices.Contains(writerRoles, s.Role) {
		return fmt.Errorf("ledger.query: no rows for uid %d after the scenarios above recorded some%s", s.UID, droppedReasons(ctx, s))
	}
	kinds := map[string]int{}
	for _, e := range ev {
		kinds[e.Kind]++
	}
	s.Logf("ledger rows for uid %d by kind: %v", s.UID, kinds)
	var rep protocol.VerifyResult
	if err := s.call(ctx, protocol.MethodLedgerVerify, nil, &rep); err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("ledger.verify: not ok, first bad row %s", mustJSON(rep.FirstBad))
	}
	s.Logf("ledger.verify ok over %d rows", rep.Rows)
	return nil
}

// droppedReasons explains missing rows: the ledger records what it had to
// drop as "overload" rows with the reason.
func droppedReasons(ctx context.Context, s *Session) string {
	var page protocol.Page
	if err := s.call(ctx, protocol.MethodLedgerQuery, protocol.QueryParams{Filter: protocol.Filter{Kind: "overload"}}, &page); err != nil {
		return ""
	}
	if len(page.Events) == 0 {
		return ""
	}
	var reasons []string
	for _, e := range page.Events {
		var d struct {
			Reason string `json:"reason"`
		}
		json.Unmarshal(e.Detail, &d)
		reasons = append(reasons, d.Reason)
	}
	return fmt.Sprintf("; the ledger dropped records: %s", strings.Join(reasons, "; "))
}

func preinstallAudit(ctx context.Context, s *Session) error {
	var st protocol.PreinstallStatus
	if err := s.call(ctx, protocol.MethodPreinstallStatus, nil, &st); err != nil {
		return err
	}
	if st.State == "" {
		return fmt.Errorf("preinstall.status: no state in %s", mustJSON(st))
	}
	s.Logf("preinstall.status: %s, %d scans, %d APKs, %d failed, %d findings", st.State, st.Scans, st.Summary.APKs, st.Summary.Failed, len(st.Findings))
	return nil
}
