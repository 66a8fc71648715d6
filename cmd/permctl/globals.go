package main

import (
	"fmt"
	"strconv"
	"strings"
)

// globalFlag is one flag that every subcommand accepts, before or after
// the subcommand's name ("permctl --json grants" = "permctl grants
// --json"), the way kubectl and tailscale treat their global flags.
//
// The parser is the standard library's flag package extended by
// extractGlobals rather than github.com/spf13/pflag: the design card
// fixes the Go modules, and the device permctl must stay small; the
// extension is the few dozen lines in this file and help.go.
//
// A branch that needs another global flag adds one row to globalFlags
// (and, if it needs state, one field to env).
type globalFlag struct {
	name  string // without dashes
	value string // placeholder of the value ("PATH"); "" for a switch
	usage string
	set   func(e *env, v string) error
}

var globalFlags = []globalFlag{
	{name: "json", usage: "print JSON (lists as {\"items\": [...], \"next\": \"...\"}; see docs/permctl.md)", set: setBool(func(e *env) *bool { return &e.json })},
	{name: "socket", value: "PATH", usage: "permd socket (default $PERMD_SOCKET, else /dev/socket/permd)", set: func(e *env, v string) error { e.socket = v; return nil }},
	{name: "lang", value: "LANG", usage: "language of labels: en or zh-CN (default from $LC_ALL, $LANG)", set: func(e *env, v string) error {
		l, ok := normLang(v)
		if !ok {
			return usagef("--lang must be en or zh-CN (zh_CN, zh also work), not %q", v)
		}
		e.lang = l
		return nil
	}},
	{name: "wide", usage: "do not cut the free-text column of tables to the terminal width", set: setBool(func(e *env) *bool { return &e.wide })},
}

func setBool(field func(e *env) *bool) func(e *env, v string) error {
	return func(e *env, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return usagef("want true or false, not %q", v)
		}
		*field(e) = b
		return nil
	}
}

func lookupGlobal(name string) *globalFlag {
	for i := range globalFlags {
		if globalFlags[i].name == name {
			return &globalFlags[i]
		}
	}
	return nil
}

// extractGlobals takes the global flags out of args wherever they stand
// and applies them to e; the rest keeps its order for the subcommand. A
// "--" ends flag processing: what follows is left as it is.
func extractGlobals(e *env, args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, val, hasVal := strings.Cut(name, "=")
		g := lookupGlobal(name)
		if g == nil {
			rest = append(rest, a)
			continue
		}
		if g.value == "" {
			if !hasVal {
				val = "true"
			}
		} else if !hasVal {
			if i+1 >= len(args) {
				return nil, usagef("--%s needs a value (%s)", g.name, g.value)
			}
			i++
			val = args[i]
		}
		if err := g.set(e, val); err != nil {
			var ue *usageError
			if asUsage(err, &ue) && !strings.Contains(ue.msg, "--"+g.name) {
				return nil, usagef("--%s: %s", g.name, ue.msg)
			}
			return nil, err
		}
	}
	return rest, nil
}

// normLang maps the spellings people and locales use to the two
// languages permd speaks: "zh_CN.UTF-8", "zh-CN", "zh" → zh-CN;
// "en_US.UTF-8", "C", "POSIX", "en" → en.
func normLang(s string) (string, bool) {
	base, _, _ := strings.Cut(s, ".")
	base, _, _ = strings.Cut(base, "@")
	low := strings.ToLower(strings.ReplaceAll(base, "_", "-"))
	switch {
	case low == "zh" || strings.HasPrefix(low, "zh-cn") || low == "zh-hans" || strings.HasPrefix(low, "zh-hans-"):
		return "zh-CN", true
	case low == "en" || strings.HasPrefix(low, "en-") || low == "c" || low == "posix":
		return "en", true
	}
	return "", false
}

// langFromEnv is the language when --lang is absent: LC_ALL, then
// LANG (as setlocale reads them); anything else, or unset, is English.
func langFromEnv(getenv func(string) string) string {
	for _, k := range []string{"LC_ALL", "LANG"} {
		if v := getenv(k); v != "" {
			if l, ok := normLang(v); ok {
				return l
			}
			return "en"
		}
	}
	return "en"
}

// globalsHelp lists the global flags for help texts.
func globalsHelp() string {
	var b strings.Builder
	for _, g := range globalFlags {
		n := "--" + g.name
		if g.value != "" {
			n += " " + g.value
		}
		fmt.Fprintf(&b, "  %-16s %s\n", n, g.usage)
	}
	return b.String()
}
