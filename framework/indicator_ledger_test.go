package framework

import (
	"context"
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"permd/aosp/etc"
	"permd/aosp/wait"
	"permd/ledger"
)

// TestIndicatorRecordsInLedger runs on an injected clock: a use that
// outlives its max span without a heartbeat is ended as an anomaly, and
// the ledger holds the use (span), the anomaly and the shown span
// (indicator), with detail keys the published rules accept.
func TestIndicatorRecordsInLedger(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().Truncate(time.Millisecond)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ts := startTestService(t, testOptions{Now: clock, Config: map[string]string{IndicatorFile: `{"version":1,"max_span":"1m"}`}})
	fw := ts.dial(t)
	ctx := context.Background()
	var st started
	if err := fw.Call(ctx, "op.start", map[string]any{"resource": "camera", "uid": 10123, "package": "com.example.cam", "op": "android:camera",
		"via": []map[string]any{{"uid": 1047, "package": "cameraserver"}}}, &st); err != nil {
		t.Fatal(err)
	}
	start := now
	advance(62 * time.Second) // ended at 60 s, held until 65 s
	var snap snapshotMsg
	fw.Call(ctx, "indicator.get", nil, &snap) // expires what is due by now
	if !snap.on("camera") || snap.Resources[0].Apps[0].Active != 0 {
		t.Fatalf("after the max span: %+v; want camera held, no active use", snap.Resources[0])
	}
	advance(10 * time.Second)
	fw.Call(ctx, "indicator.get", nil, &snap)
	if snap.on("camera") {
		t.Fatal("camera still on after max span and hold")
	}
	type event struct {
		Time   int64           `json:"time_ms"`
		UID    int             `json:"uid"`
		Cat    string          `json:"category"`
		Op     string          `json:"op"`
		Result string          `json:"result"`
		Detail json.RawMessage `json:"detail"`
	}
	query := func(kind string) []event {
		var page struct {
			Events []event `json:"events"`
		}
		if err := fw.Call(ctx, "ledger.query", map[string]any{"kind": kind}, &page); err != nil {
			t.Fatalf("ledger.query %s: %v", kind, err)
		}
		return page.Events
	}
	wait.Until(t, "indicator, span and anomaly records", func() bool {
		return len(query("indicator")) == 1 && len(query("span")) == 1 && len(query("anomaly")) == 1
	})
	span := query("span")[0]
	if span.UID != 10123 || span.Cat != "camera" || span.Op != "android:camera" || span.Result != "allowed" || span.Time != start.UnixMilli() ||
		!strings.Contains(string(span.Detail), `"duration_ms":60000`) || !strings.Contains(string(span.Detail), `"reason":"timeout"`) || !strings.Contains(string(span.Detail), "cameraserver") {
		t.Errorf("span record %+v detail %s", span, span.Detail)
	}
	an := query("anomaly")[0]
	if an.UID != 10123 || an.Cat != "camera" || !strings.Contains(string(an.Detail), `"limit":60000`) || !strings.Contains(string(an.Detail), "indicator_use_without_heartbeat") {
		t.Errorf("anomaly record %+v detail %s", an, an.Detail)
	}
	shown := query("indicator")[0]
	if shown.UID != 10123 || shown.Cat != "camera" || shown.Result != "" || shown.Time != start.UnixMilli() || !strings.Contains(string(shown.Detail), `"duration_ms":65000`) {
		t.Errorf("indicator record %+v detail %s; want 60 s max span + 5 s hold", shown, shown.Detail)
	}
	var h Health
	fw.Call(ctx, "sys.health", map[string]bool{"detail": true}, &h)
	if l, _ := h.Parts["ledger"].(map[string]any); l["dropped"] != 0.0 {
		t.Fatalf("ledger dropped records: %v", h.Parts["ledger"])
	}
}

type captureSink struct{ recs []ledger.Record }

func (c *captureSink) Append(ctx context.Context, recs ...ledger.Record) error {
	c.recs = append(c.recs, recs...)
	return nil
}
func (c *captureSink) Enqueue(recs ...ledger.Record) { c.recs = append(c.recs, recs...) }
func (c *captureSink) EnqueueUses(open []ledger.OpenUse, closed []uint64, recs ...ledger.Record) {
	c.recs = append(c.recs, recs...)
}

// TestRulesFilterKeepsRecordsDropsUnlistedKeys: with the shipped rules,
// span records pass byte for byte; an indicator record loses only the
// keys the rules do not list.
func TestRulesFilterKeepsRecordsDropsUnlistedKeys(t *testing.T) {
	raw, err := fs.ReadFile(etc.Default(), RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ledger.ParseRules(raw)
	if err != nil {
		t.Fatal(err)
	}
	sink := &captureSink{}
	f := &rulesFilter{sink: sink, rules: func() *ledger.Rules { return rules }, log: discardLogger()}
	span := json.RawMessage(`{"duration_ms":5,"reason":"finish","pid":7}`)
	f.Enqueue(
		ledger.Record{Kind: "span", Category: "camera", Detail: span},
		ledger.Record{Kind: "indicator", Category: "camera", Detail: json.RawMessage(`{"duration_ms":5005,"resource":"camera","package":"com.a","uses":1,"reason":"finish"}`)},
	)
	if len(sink.recs) != 2 {
		t.Fatalf("%d records passed, want 2", len(sink.recs))
	}
	if string(sink.recs[0].Detail) != string(span) {
		t.Errorf("span detail changed: %s", sink.recs[0].Detail)
	}
	var got map[string]any
	json.Unmarshal(sink.recs[1].Detail, &got)
	k := rules.Kind("indicator")
	for key := range got {
		if !slices.Contains(k.Detail, key) {
			t.Errorf("indicator detail kept %q, which the rules do not list", key)
		}
	}
	if got["duration_ms"] != 5005.0 || got["resource"] != "camera" {
		t.Errorf("indicator detail lost listed keys: %v", got)
	}
}
