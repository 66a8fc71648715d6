package framework

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"permd/aosp/wait"
	"permd/indicator"
)

func TestLEDFollowsIndicatorInFixtureRoot(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "sys/class/leds/privacy-cam")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "brightness"), []byte("0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "max_brightness"), []byte("1\n"), 0o644)
	ts := startTestService(t, testOptions{Root: root, Config: map[string]string{IndicatorFile: `{
  "version": 1, "hold": "0s",
  "resources": [{"resource": "camera", "led": {"path": "/sys/class/leds/privacy-cam/brightness"}}, {"resource": "microphone"}]
}`}})
	led := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "brightness"))
		return strings.TrimSpace(string(b))
	}
	fw := ts.dial(t)
	var st started
	if err := fw.Call(context.Background(), "op.start", map[string]any{"resource": "camera", "uid": 10100, "package": "com.a"}, &st); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, "LED on", func() bool { return led() == "1" })
	fw.Call(context.Background(), "op.finish", map[string]any{"use": st.Use}, nil)
	wait.Until(t, "LED off", func() bool { return led() == "0" })
}

func TestIndicatorConfigErrorsAndReload(t *testing.T) {
	for _, tc := range []struct{ body, field string }{
		{`{"version":1,"hold":"soon"}`, "hold"},
		{`{"version":1,"resources":[{"resource":"torch"}]}`, "resources[0].resource"},
		{`{"version":1,"resources":[{"resource":"camera","colour":"red"}]}`, "resources[0].colour"},
		{`{"version":3}`, "version"},
	} {
		_, err := New(Options{DataDir: t.TempDir(), SocketPath: "x", ConfigDir: writeConfigDir(t, map[string]string{IndicatorFile: tc.body}), Logger: discardLogger()})
		ce, ok := err.(*ConfigError)
		if !ok || ce.File != IndicatorFile || ce.Field != tc.field {
			t.Errorf("%s: got %v; want a config error in %s field %s", tc.body, err, IndicatorFile, tc.field)
		}
	}
	ts := startTestService(t, testOptions{})
	sub := subscribeIndicator(t, ts)
	ts.writeConfig(t, IndicatorFile, `{"version":1,"resources":[{"resource":"sms","labels":{"en":"Messages"}}]}`)
	m := sub.until(t, "reload to sms only", func(m snapshotMsg) bool { return len(m.Resources) == 1 })
	if m.Resources[0].Resource != "sms" || m.Resources[0].Labels["en"] != "Messages" || m.Resources[0].Labels["zh-CN"] != "短信" {
		t.Fatalf("after reload: %+v", m.Resources)
	}
	ts.writeConfig(t, IndicatorFile, `{"version":1,"hold":"forever"}`)
	wait.Until(t, "the bad config to be rejected", func() bool { return ts.svc.configRejects.Load() > 0 })
	if cfg := ts.svc.indicator.eng.Config(); len(cfg.Resources) != 1 || cfg.Hold != indicator.DefaultHold {
		t.Fatalf("bad reload changed the config: %+v", cfg)
	}
}

func writeConfigDir(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	files[MainFile] = testRolesJSON
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestShippedIndicatorConfig: the indicator.json installed on devices
// (and embedded for host runs) is valid and says what the docs say.
func TestShippedIndicatorConfig(t *testing.T) {
	snap := shippedSnapshot(t, IndicatorFile)
	var p indicatorPart
	apply, err := p.prepare(&Service{opt: Options{Root: "/"}}, snap)
	if err != nil {
		t.Fatal(err)
	}
	apply()
	var codes []string
	for _, r := range p.cfg.Resources {
		codes = append(codes, r.Code)
	}
	if strings.Join(codes, ",") != "camera,microphone,location" || p.cfg.Hold != 5*time.Second || p.cfg.MaxSpan != 10*time.Minute {
		t.Fatalf("shipped config: %v hold %s max span %s", codes, p.cfg.Hold, p.cfg.MaxSpan)
	}
}
