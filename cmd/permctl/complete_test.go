package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBashCompletion sources the generated script in a real bash and
// calls its completion function as bash would.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skipf("SKIP: no bash: %v", err)
	}
	code, script, errs := permctl(t, "/nonexistent", "completion", "bash")
	if code != exitOK {
		t.Fatalf("completion bash: %d %s", code, errs)
	}
	file := filepath.Join(t.TempDir(), "permctl.bash")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	complete := func(words ...string) []string {
		t.Helper()
		// The last word is the one being completed.
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+w+"'")
		}
		prog := "source " + file + "; COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" +
			strconv.Itoa(len(words)-1) + "; _permctl; printf '%s\\n' \"${COMPREPLY[@]}\""
		out, err := exec.Command(bash, "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("bash %v: %v\n%s", words, err, out)
		}
		return strings.Fields(string(out))
	}
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"permctl", "gra"}, []string{"grant", "grants"}},
		{[]string{"permctl", "--json", "led"}, []string{"ledger"}},
		{[]string{"permctl", "--socket", "/x", "sta"}, []string{"starts", "status"}},
		{[]string{"permctl", "grant", "--alw"}, []string{"--always"}},
		{[]string{"permctl", "ledger", "su"}, []string{"summary"}},
		{[]string{"permctl", "ledger", "timeline", "--bu"}, []string{"--bucket"}},
		{[]string{"permctl", "status", "--js"}, []string{"--json"}},
		{[]string{"permctl", "--lang", "zh"}, []string{"zh-CN"}},
		{[]string{"permctl", "completion", ""}, []string{"bash", "zsh"}},
	} {
		if got := complete(tc.words...); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("completing %q: got %q, want %q", tc.words, got, tc.want)
		}
	}
	code, zsh, _ := permctl(t, "/nonexistent", "completion", "zsh")
	if code != exitOK || !strings.HasPrefix(zsh, "autoload -U +X bashcompinit") || !strings.Contains(zsh, "complete -F _permctl permctl") {
		t.Errorf("completion zsh: %d\n%s", code, zsh)
	}
}
