package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
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
	var h struct {
		Status  string `json:"status"`
		Storage struct {
			OK     bool   `json:"ok"`
			Driver string `json:"driver"`
			Error  string `json:"error"`
		} `json:"storage"`
	}
	if err := s.call(ctx, "sys.health", nil, &h); err != nil {
		return err
	}
	if h.Status != "ok" || !h.Storage.OK {
		return fmt.Errorf("sys.health: status %q, storage ok=%v %s; want ok", h.Status, h.Storage.OK, h.Storage.Error)
	}
	var v struct {
		Version  string `json:"version"`
		Protocol int    `json:"protocol"`
		Platform string `json:"platform"`
	}
	if err := s.call(ctx, "sys.version", nil, &v); err != nil {
		return err
	}
	if v.Protocol != 1 {
		return fmt.Errorf("sys.version: protocol %d, want 1", v.Protocol)
	}
	s.Logf("permd %s on %s, sqlite %s", v.Version, v.Platform, h.Storage.Driver)
	return nil
}

func requestAndCheck(ctx context.Context, s *Session) error {
	if err := s.needRole(writerRoles...); err != nil {
		return err
	}
	var req rawJSON
	err := s.call(ctx, "perm.request", rawJSON{"uid": s.UID, "package": s.Pkg, "category": "camera", "lang": "en"}, &req)
	if err != nil {
		return err
	}
	status, _ := req["status"].(string)
	if status == "" {
		return fmt.Errorf("perm.request: no status in %s", mustJSON(req))
	}
	s.Logf("perm.request camera: status %s", status)

	var chk rawJSON
	err = s.call(ctx, "perm.check", rawJSON{"uid": s.UID, "package": s.Pkg, "category": "camera", "state": "foreground"}, &chk)
	if err != nil {
		return err
	}
	allowed, ok := chk["allowed"].(bool)
	result, _ := chk["result"].(string)
	if !ok || !slices.Contains([]string{"allowed", "denied", "reduced", "decoy", "rate_limited"}, result) {
		return fmt.Errorf("perm.check: want allowed (bool) and a ledger result code, got %s", mustJSON(chk))
	}
	if allowed != (result == "allowed" || result == "reduced") {
		return fmt.Errorf("perm.check: allowed=%v contradicts result %q", allowed, result)
	}
	s.Logf("perm.check camera: allowed=%v result=%s", allowed, result)
	return nil
}

// resourceState finds resource res in an indicator.get snapshot.
func resourceState(snap rawJSON, res string) (on bool, uids []int, found bool) {
	list, _ := snap["resources"].([]any)
	for _, r := range list {
		m, _ := r.(map[string]any)
		if m["resource"] != res {
			continue
		}
		on, _ = m["on"].(bool)
		apps, _ := m["apps"].([]any)
		for _, a := range apps {
			am, _ := a.(map[string]any)
			if u, ok := am["uid"].(float64); ok {
				uids = append(uids, int(u))
			}
		}
		return on, uids, true
	}
	return false, nil, false
}

func indicatorOnOff(ctx context.Context, s *Session) error {
	if err := s.needRole(writerRoles...); err != nil {
		return err
	}
	var started rawJSON
	err := s.call(ctx, "op.start", rawJSON{"resource": "camera", "uid": s.UID, "package": s.Pkg, "op": "android:camera"}, &started)
	if err != nil {
		return err
	}
	use, ok := started["use"].(float64)
	if !ok {
		return fmt.Errorf("op.start: no use id in %s", mustJSON(started))
	}
	var snap rawJSON
	if err := s.call(ctx, "indicator.get", nil, &snap); err != nil {
		return err
	}
	on, uids, found := resourceState(snap, "camera")
	if !found || !on || !slices.Contains(uids, s.UID) {
		return fmt.Errorf("after op.start: camera indicator on=%v apps=%v (found=%v), want on for uid %d", on, uids, found, s.UID)
	}
	s.Logf("camera on for uid %d (use %d)", s.UID, int64(use))
	if err := s.call(ctx, "op.finish", rawJSON{"use": uint64(use)}, nil); err != nil {
		return err
	}
	// The indicator stays on for the hold time (5 s by default) after
	// the use ends, so a short use is still seen; then it must go off.
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for {
		if err := s.call(ctx, "indicator.get", nil, &snap); err != nil {
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
func startReport(s *Session) rawJSON {
	return rawJSON{
		"uid":        s.UID,
		"process":    s.Pkg,
		"reason":     "broadcast",
		"component":  s.Pkg + "/.E2eReceiver",
		"caller":     s.Caller.Package,
		"caller_uid": s.Caller.UID,
	}
}

// waitEvents polls ledger.query until filter matches at least one event.
func waitEvents(ctx context.Context, s *Session, filter rawJSON, within time.Duration) ([]any, error) {
	deadline := time.Now().Add(within)
	for {
		var page rawJSON
		if err := s.call(ctx, "ledger.query", filter, &page); err != nil {
			return nil, err
		}
		if ev, _ := page["events"].([]any); len(ev) > 0 {
			return ev, nil
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
	if err := s.call(ctx, "proc.report", startReport(s), nil); err != nil {
		return err
	}
	ev, err := waitEvents(ctx, s, rawJSON{"uid": s.UID, "kind": "associated_start", "since_ms": since}, 10*time.Second)
	if err != nil {
		return err
	}
	if len(ev) == 0 {
		return fmt.Errorf("no associated_start row for uid %d in the ledger 10 s after proc.report%s", s.UID, droppedReasons(ctx, s))
	}
	first, _ := ev[0].(map[string]any)
	detail := mustJSON(first["detail"])
	if !strings.Contains(detail, s.Caller.Package) && !strings.Contains(detail, fmt.Sprint(s.Caller.UID)) {
		return fmt.Errorf("associated_start row does not name the caller %s: %s", s.Caller.Package, mustJSON(first))
	}
	s.Logf("associated_start recorded: %s", detail)
	return nil
}

func ledgerQueryVerify(ctx context.Context, s *Session) error {
	ev, err := waitEvents(ctx, s, rawJSON{"uid": s.UID}, 5*time.Second)
	if err != nil {
		return err
	}
	if len(ev) == 0 && slices.Contains(writerRoles, s.Role) {
		return fmt.Errorf("ledger.query: no rows for uid %d after the scenarios above recorded some%s", s.UID, droppedReasons(ctx, s))
	}
	kinds := map[string]int{}
	for _, e := range ev {
		m, _ := e.(map[string]any)
		k, _ := m["kind"].(string)
		kinds[k]++
	}
	s.Logf("ledger rows for uid %d by kind: %v", s.UID, kinds)
	var rep struct {
		OK       bool           `json:"ok"`
		Rows     int64          `json:"rows"`
		FirstBad map[string]any `json:"first_bad"`
	}
	if err := s.call(ctx, "ledger.verify", nil, &rep); err != nil {
		return err
	}
	if !rep.OK {
		return fmt.Errorf("ledger.verify: not ok, first bad row %v", rep.FirstBad)
	}
	s.Logf("ledger.verify ok over %d rows", rep.Rows)
	return nil
}

// droppedReasons explains missing rows: the ledger records what it had to
// drop as "overload" rows with the reason.
func droppedReasons(ctx context.Context, s *Session) string {
	var page rawJSON
	if err := s.call(ctx, "ledger.query", rawJSON{"kind": "overload"}, &page); err != nil {
		return ""
	}
	ev, _ := page["events"].([]any)
	if len(ev) == 0 {
		return ""
	}
	var reasons []string
	for _, e := range ev {
		m, _ := e.(map[string]any)
		d, _ := m["detail"].(map[string]any)
		reasons = append(reasons, fmt.Sprint(d["reason"]))
	}
	return fmt.Sprintf("; the ledger dropped records: %s", strings.Join(reasons, "; "))
}

func preinstallAudit(ctx context.Context, s *Session) error {
	var st rawJSON
	if err := s.call(ctx, "preinstall.status", nil, &st); err != nil {
		return err
	}
	if len(st) == 0 {
		return fmt.Errorf("preinstall.status: empty result")
	}
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s.Logf("preinstall.status fields: %s", strings.Join(keys, ", "))
	return nil
}
