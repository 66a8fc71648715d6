package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"permd/framework/client"
	"permd/framework/protocol"
)

func init() {
	register(command{name: "status", summary: "daemon health: uptime, storage, connections, calls per method", run: runStatus})
	register(command{name: "version", summary: "permctl and permd versions, protocol, SQLite driver", run: runVersion})
	register(command{name: "call", summary: "call any method: permctl call METHOD [JSON-PARAMS]", run: runCall})
}

// health is sys.health's result with each part's figures kept as sent:
// a part's object is free-form (it grows with the part), and printKV
// shows whatever it holds.
type health struct {
	protocol.Health
	Parts map[string]json.RawMessage `json:"parts"`
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "status", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var raw json.RawMessage
	err := e.call(ctx, protocol.MethodSysHealth, protocol.HealthParams{Detail: true}, &raw)
	if re := (*client.RPCError)(nil); errors.As(err, &re) && re.Code == protocol.CodePermissionDenied {
		// Only roles that read every app's records see the daemon-wide
		// figures; others get the summary.
		err = e.call(ctx, protocol.MethodSysHealth, nil, &raw)
	}
	if err != nil {
		return err
	}
	if e.json {
		return e.printObject(raw)
	}
	var h health
	if err := json.Unmarshal(raw, &h); err != nil {
		return err
	}
	st := e.msg("status_ok")
	if !h.Storage.OK {
		st = e.msg("storage_fail", h.Storage.Error)
	}
	kv := e.table()
	fmt.Fprintf(kv, "%s:\t%s\n", e.msg("status"), h.Status)
	fmt.Fprintf(kv, "%s:\t%s\n", e.msg("uptime"), (time.Duration(h.UptimeMS) * time.Millisecond).Round(time.Second))
	fmt.Fprintf(kv, "%s:\t%s (%s)\n", e.msg("storage"), st, h.Storage.Driver)
	fmt.Fprintf(kv, "%s:\t%d\n", e.msg("connections"), h.Connections)
	fmt.Fprintf(kv, "%s:\t%s\n", e.msg("config"), e.msg("config_loads", h.ConfigDir, h.ConfigLoads, h.ConfigRejects))
	fmt.Fprintf(kv, "%s:\t%s\n", e.msg("you"), e.msg("you_are", h.You.UID, h.You.Role))
	kv.Flush()
	names := make([]string, 0, len(h.Parts))
	for n := range h.Parts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(e.stdout, "\n%s:\n", n)
		printKV(e, "  ", h.Parts[n])
	}
	if len(h.Methods) > 0 {
		fmt.Fprintf(e.stdout, "\n%s:\n", e.msg("calls"))
		tw := e.table()
		fmt.Fprintln(tw, "  "+e.heads("METHOD", "OK", "FAILED"))
		ms := make([]string, 0, len(h.Methods))
		for m := range h.Methods {
			ms = append(ms, m)
		}
		sort.Strings(ms)
		for _, m := range ms {
			fmt.Fprintf(tw, "  %s\t%d\t%d\n", m, h.Methods[m].OK, h.Methods[m].Failed)
		}
		tw.Flush()
	}
	return nil
}

// printKV prints a part's health object as aligned "key: value" lines,
// nested objects as dotted keys, lists comma-separated.
func printKV(e *env, indent string, raw json.RawMessage) {
	v, err := decodeNumbers(raw)
	if err != nil {
		fmt.Fprintf(e.stdout, "%s%s\n", indent, raw)
		return
	}
	tw := e.table()
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if len(keys) == 0 && prefix != "" {
				fmt.Fprintf(tw, "%s%s:\t-\n", indent, prefix)
			}
			for _, k := range keys {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x[k])
			}
		default:
			fmt.Fprintf(tw, "%s%s:\t%s\n", indent, prefix, kvText(x))
		}
	}
	walk("", v)
	tw.Flush()
}

func kvText(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		if x == "" {
			return "-"
		}
		return x
	case []any:
		if len(x) == 0 {
			return "-"
		}
		parts := make([]string, len(x))
		for i, y := range x {
			if _, obj := y.(map[string]any); obj {
				b, _ := json.Marshal(y)
				parts[i] = string(b)
				continue
			}
			parts[i] = kvText(y)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var v protocol.VersionInfo
	err := e.call(ctx, protocol.MethodSysVersion, nil, &v)
	if e.json {
		out := map[string]any{"permctl": version}
		if err == nil {
			out["permd"] = v
		}
		if perr := e.printJSON(out); perr != nil {
			return perr
		}
		return err
	}
	fmt.Fprintf(e.stdout, "permctl %s\n", version)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "permd   %s (protocol %d, %s, %s, %s)\n", v.Version, v.Protocol, v.Driver, v.Go, v.Platform)
	return nil
}

// runCall is the escape hatch for scripts and the e2e runner: any method,
// raw JSON params, raw JSON result.
func runCall(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "call", "METHOD [JSON-PARAMS]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return usagef("call: want METHOD [JSON-PARAMS]")
	}
	var params any
	if fs.NArg() == 2 {
		var raw json.RawMessage
		if err := json.Unmarshal([]byte(fs.Arg(1)), &raw); err != nil {
			return usagef("call: params are not valid JSON: %v", err)
		}
		params = raw
	}
	var res json.RawMessage
	if err := e.call(ctx, fs.Arg(0), params, &res); err != nil {
		var re *client.RPCError
		if errors.As(err, &re) && re.Code != protocol.CodePermissionDenied {
			// call is the JSON-RPC escape hatch: scripts and the e2e
			// runner read the code, so every daemon error keeps it
			// ("message (code N)", exit 5), a mistyped method with a
			// suggestion.
			msg := re.Message
			if re.Code == protocol.CodeMethodNotFound {
				msg = fmt.Sprintf("no method %q%s (docs/protocol.md lists them)", fs.Arg(0), didYouMean(fs.Arg(0), methodNames(ctx, e)))
			}
			return &rawRPCError{msg: msg, code: re.Code}
		}
		return err
	}
	return e.printJSON(res)
}

// knownMethods are the methods of the protocol (docs/protocol.md
// documents each; a test keeps the two in step), for suggestions when a
// name is mistyped.
var knownMethods = func() []string {
	var names []string
	for _, s := range protocol.Specs() {
		names = append(names, s.Name)
	}
	return names
}()

// methodNames is knownMethods plus any other method this daemon has
// served (sys.health counts calls per method).
func methodNames(ctx context.Context, e *env) []string {
	names := slices.Clone(knownMethods)
	var h health
	if err := e.call(ctx, protocol.MethodSysHealth, protocol.HealthParams{Detail: true}, &h); err == nil {
		for m := range h.Methods {
			if !strings.HasPrefix(m, "(") && !slices.Contains(names, m) {
				names = append(names, m)
			}
		}
	}
	sort.Strings(names)
	return names
}

// rawRPCError is a daemon error as permctl call reports it: the message
// and its JSON-RPC code, exit 5.
type rawRPCError struct {
	msg  string
	code int
}

func (e *rawRPCError) Error() string { return fmt.Sprintf("%s (code %d)", e.msg, e.code) }
