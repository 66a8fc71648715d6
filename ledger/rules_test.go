package ledger

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/recording-rules.md from rules.json")

const docPath = "../docs/recording-rules.md"

// TestPublishedDocumentMatchesRules keeps the public document rendered
// from the rules the daemon enforces: run `go test ./ledger -update`
// after changing rules.json.
func TestPublishedDocumentMatchesRules(t *testing.T) {
	var b bytes.Buffer
	if err := RenderDocument(&b, defaultRules(t)); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(docPath, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run go test ./ledger -update)", err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("%s differs from the rendering of rules.json: run go test ./ledger -update", filepath.Clean(docPath))
	}
}

func TestRenderBothLanguages(t *testing.T) {
	r := defaultRules(t)
	for _, tc := range []struct {
		lang, format string
		want         []string
	}{
		{"en", "text", []string{"permd recording rules\n=====", "Kept for: 30 days", "Background self-start (self_start)", "Kept for: 730 days", "Microphone (microphone): "}},
		{"en", "markdown", []string{"# permd recording rules", "- **Kept for**: 365 days", "`calendar`, `call_log`"}},
		{"zh-CN", "markdown", []string{"# permd 记录规则", "- **保存期限**: 30 天", "### 后台自启动 (self_start)", "版本 " + strconv.Itoa(r.Version)}},
		{"zh-CN", "text", []string{"permd 记录规则\n========", "麦克风 (microphone): "}},
	} {
		var b strings.Builder
		if err := Render(&b, r, tc.lang, tc.format); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s %s: want %q in the rendering", tc.lang, tc.format, w)
			}
		}
	}
	if err := Render(&strings.Builder{}, r, "fr", "text"); err == nil || !strings.Contains(err.Error(), "fr") {
		t.Errorf("unknown language: want an error naming it, got %v", err)
	}
}

func TestRulesCoverEveryAgreedCode(t *testing.T) {
	r := defaultRules(t)
	for _, k := range []string{"access", "span", "self_start", "associated_start", "user_start", "clipboard_read", "device_id_read",
		"app_list_read", "indicator", "grant_change", "grant_decision", "preinstall_finding", "overload", "anomaly"} {
		if r.Kind(k) == nil {
			t.Errorf("kind %q missing from rules.json", k)
		}
	}
	for _, c := range []string{"calendar", "call_log", "camera", "contacts", "location", "microphone", "phone", "sms", "storage",
		"body_activity", "clipboard", "device_id", "app_list", "process", "preinstall", "system"} {
		if r.category(c) == nil {
			t.Errorf("category %q missing", c)
		}
	}
	for _, s := range []string{"foreground", "visible", "background", "not_running", ""} {
		if !r.hasState(s) {
			t.Errorf("app state %q missing", s)
		}
	}
}

func TestBadRulesNameTheField(t *testing.T) {
	good := string(defaultRules(t).Raw())
	for _, tc := range []struct{ from, to, field string }{
		{fmt.Sprintf(`"version": %d`, defaultRules(t).Version), `"version": 0`, "version"},
		{`"max_time_ahead": "1m"`, `"max_time_ahead": "2h"`, "max_time_ahead"},
		{`"coalesce_window": "60s"`, `"coalesce_window": "2h"`, "coalesce_window"},
		{`"zh-CN": "permd 记录规则"`, `"fr": "x"`, "title"},
		{`"categories": ["process"]`, `"categories": ["telepathy"]`, "kinds[2].categories[0]"},
		{`"retention_days": 7`, `"retention_days": 0`, "kinds[4].retention_days"},
		{`"max_detail_bytes": 1024`, `"max_detail_bytes": 1024, "extra": 1`, ""},
	} {
		bad := strings.Replace(good, tc.from, tc.to, 1)
		if bad == good {
			t.Fatalf("test case %q does not apply", tc.from)
		}
		_, err := ParseRules([]byte(bad))
		re, ok := err.(*RulesError)
		if !ok || re.Field != tc.field {
			t.Errorf("%s: want an error on field %q, got %v", tc.to, tc.field, err)
		}
	}
}

// TestRulesCannotDropArt32Kinds: a rules file that removes a kind Art. 32
// requires, or narrows its categories, results or detail, is refused
// with the field named.
func TestRulesCannotDropArt32Kinds(t *testing.T) {
	good := defaultRules(t)
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good.Raw(), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	kind := func(m map[string]any, code string) (int, map[string]any) {
		for i, k := range m["kinds"].([]any) {
			if k.(map[string]any)["code"] == code {
				return i, k.(map[string]any)
			}
		}
		t.Fatalf("no kind %q", code)
		return 0, nil
	}
	without := func(list any, v string) []any {
		var out []any
		for _, x := range list.([]any) {
			if x != v {
				out = append(out, x)
			}
		}
		return out
	}
	for _, code := range []string{"access", "self_start", "associated_start", "clipboard_read", "device_id_read", "app_list_read", "overload"} {
		raw := edit(func(m map[string]any) {
			i, _ := kind(m, code)
			ks := m["kinds"].([]any)
			m["kinds"] = append(ks[:i:i], ks[i+1:]...)
		})
		_, err := ParseRules(raw)
		if re, ok := err.(*RulesError); !ok || re.Field != "kinds" || !strings.Contains(re.Problem, code) || !strings.Contains(re.Problem, "Art. 32") {
			t.Errorf("rules without kind %q: %v, want a refusal on field kinds naming it", code, err)
		}
	}
	for _, tc := range []struct{ kind, field, drop string }{
		{"access", "categories", "camera"},
		{"access", "results", "denied"},
		{"clipboard_read", "results", "decoy"},
		{"associated_start", "detail", "caller"},
	} {
		var idx int
		raw := edit(func(m map[string]any) {
			i, k := kind(m, tc.kind)
			idx = i
			k[tc.field] = without(k[tc.field], tc.drop)
		})
		_, err := ParseRules(raw)
		want := fmt.Sprintf("kinds[%d].%s", idx, tc.field)
		if re, ok := err.(*RulesError); !ok || re.Field != want || !strings.Contains(re.Problem, tc.drop) {
			t.Errorf("%s without %s %q: %v, want a refusal on %s", tc.kind, tc.field, tc.drop, err, want)
		}
	}
	// Adding is allowed.
	raw := edit(func(m map[string]any) {
		_, k := kind(m, "access")
		k["detail"] = append(k["detail"].([]any), "extra_field")
	})
	if _, err := ParseRules(raw); err != nil {
		t.Errorf("widening a kind was refused: %v", err)
	}
}
