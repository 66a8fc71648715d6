package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"permd/aosp/etc"
	"permd/framework/protocol"
	"permd/ledger"
)

// installedRules is where the rules file lives on a device.
const installedRules = "/system_ext/etc/permd/rules.json"

func init() {
	register(command{name: "rules", summary: "the published recording rules: permctl rules [--lang zh-CN|en] [--format text|markdown|json]", run: runRules})
}

func runRules(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "rules", "[--lang zh-CN|en] [--format text|markdown|json] [--file FILE] [--version N]")
	lang := &e.lang
	format := fs.String("format", "text", "text, markdown or json")
	file := fs.String("file", "", "render this rules file instead of asking permd")
	version := fs.Int("version", 0, "rules version rows were recorded under (asks permd)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	raw, from, err := rulesSource(ctx, e, *file, *version)
	if err != nil {
		return err
	}
	r, err := ledger.ParseRules(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	fmt.Fprintf(e.stderr, "permctl: rules version %d from %s\n", r.Version, from)
	if *format == "json" || e.json {
		var v any
		json.Unmarshal(raw, &v)
		return e.printJSON(v)
	}
	if err := ledger.Render(e.stdout, r, *lang, *format); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// rulesSource picks the rules: a named file; else the daemon's (the ones
// it enforces); else, with no daemon, the installed file; else the copy
// embedded in permctl.
func rulesSource(ctx context.Context, e *env, file string, version int) ([]byte, string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		return b, file, err
	}
	var raw json.RawMessage
	err := e.call(ctx, protocol.MethodRulesGet, protocol.RulesParams{Version: version}, &raw)
	if err == nil {
		return raw, "permd (" + e.socket + ")", nil
	}
	var nd *noDaemonError
	if !errors.As(err, &nd) || version > 0 {
		return nil, "", err
	}
	if b, err := os.ReadFile(installedRules); err == nil {
		return b, installedRules + " (permd not running)", nil
	}
	b, err := fs.ReadFile(etc.Default(), "rules.json")
	return b, "the copy built into permctl (permd not running, no " + installedRules + ")", err
}
