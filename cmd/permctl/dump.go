package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"permd/framework/protocol"
)

func init() {
	register(command{name: "dump", summary: "one text section for bug reports (like dumpsys): version, configs in force, parts' health, counts, errors", run: runDump})
}

// runDump prints what a bug report needs in one go, in a fixed layout
// that reads like a dumpsys section. Each part is asked separately, so
// one failing call leaves the others in the dump (the failure is printed
// in its place); only a daemon that cannot be reached at all fails the
// command. Text is always English: bug reports are read by engineers
// anywhere.
func runDump(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "dump", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("dump: unexpected argument %q", fs.Arg(0))
	}
	if _, err := e.client(ctx); err != nil {
		return err
	}
	var ver protocol.VersionInfo
	verErr := e.call(ctx, protocol.MethodSysVersion, nil, &ver)
	var raw json.RawMessage
	healthErr := e.call(ctx, protocol.MethodSysHealth, protocol.HealthParams{Detail: true}, &raw)
	var h health
	if healthErr == nil {
		healthErr = json.Unmarshal(raw, &h)
	}
	// The rules are a published document of their own (rules.get sends
	// it as stored); the dump needs only its version.
	var rules struct {
		Version int `json:"version"`
	}
	rulesErr := e.call(ctx, protocol.MethodRulesGet, nil, &rules)
	var cat protocol.Catalogue
	catErr := e.call(ctx, protocol.MethodGrantsCatalogue, protocol.CatalogueParams{Lang: "en"}, &cat)

	if e.json {
		out := map[string]any{"permctl": version, "time_ms": time.Now().UnixMilli()}
		put := func(k string, v any, err error) {
			if err != nil {
				out[k] = map[string]string{"error": err.Error()}
				return
			}
			out[k] = v
		}
		put("permd", ver, verErr)
		var hv any
		if healthErr == nil {
			hv, _ = decodeNumbers(raw)
		}
		put("health", hv, healthErr)
		put("config_versions", map[string]int{"rules.json": rules.Version}, rulesErr)
		if catErr == nil {
			if cv, ok := out["config_versions"].(map[string]int); ok {
				cv["catalogue"] = cat.Version
			}
		}
		out["errors"] = dumpErrors(h, healthErr)
		return e.printJSON(out)
	}

	w := e.stdout
	now := time.Now()
	fmt.Fprintf(w, "PERMD (permctl dump) at %s\n", now.Format("2006-01-02 15:04:05 -07:00"))
	fmt.Fprintf(w, "permctl: %s\n", version)
	if verErr != nil {
		fmt.Fprintf(w, "permd: unavailable: %v\n", verErr)
	} else {
		fmt.Fprintf(w, "permd: %s (protocol %d, %s, %s, %s)\n", ver.Version, ver.Protocol, ver.Driver, ver.Go, ver.Platform)
	}
	fmt.Fprintf(w, "socket: %s\n", e.socket)
	if healthErr != nil {
		fmt.Fprintf(w, "\nhealth: unavailable: %v\n", healthErr)
	} else {
		fmt.Fprintf(w, "status: %s\n", h.Status)
		fmt.Fprintf(w, "uptime: %s\n", (time.Duration(h.UptimeMS) * time.Millisecond).Round(time.Second))
		st := "ok"
		if !h.Storage.OK {
			st = "FAILING: " + h.Storage.Error
		}
		fmt.Fprintf(w, "storage: %s (%s)\n", st, h.Storage.Driver)
		fmt.Fprintf(w, "connections: %d\n", h.Connections)
		fmt.Fprintf(w, "caller: uid %d, role %s\n", h.You.UID, h.You.Role)
	}

	fmt.Fprintln(w, "\nCONFIG IN FORCE")
	if healthErr == nil {
		fmt.Fprintf(w, "  dir: %s (%d reloads, %d rejected)\n", h.ConfigDir, h.ConfigLoads, h.ConfigRejects)
	}
	if rulesErr != nil {
		fmt.Fprintf(w, "  rules.json: unavailable: %v\n", rulesErr)
	} else {
		fmt.Fprintf(w, "  rules.json: version %d\n", rules.Version)
	}
	if catErr != nil {
		fmt.Fprintf(w, "  catalogue: unavailable: %v\n", catErr)
	} else {
		fmt.Fprintf(w, "  catalogue: version %d, %d categories\n", cat.Version, len(cat.Categories))
	}

	if healthErr == nil {
		fmt.Fprintln(w, "\nPARTS")
		names := make([]string, 0, len(h.Parts))
		for n := range h.Parts {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "  %s:\n", n)
			printKV(e, "    ", h.Parts[n])
		}
		fmt.Fprintln(w, "\nCALLS (since start; methods called at least once)")
		ms := make([]string, 0, len(h.Methods))
		for m := range h.Methods {
			ms = append(ms, m)
		}
		sort.Strings(ms)
		tw := e.table()
		fmt.Fprintln(tw, "  METHOD\tOK\tFAILED")
		for _, m := range ms {
			fmt.Fprintf(tw, "  %s\t%d\t%d\n", m, h.Methods[m].OK, h.Methods[m].Failed)
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nERRORS (counters and last errors permd keeps; the lines themselves are in adb logcat -s permd)")
	errs := dumpErrors(h, healthErr)
	if len(errs) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, s := range errs {
		fmt.Fprintf(w, "  %s\n", s)
	}
	return nil
}

// dumpErrors lists what went wrong as far as permd's figures tell:
// failing storage, rejected configs, failed calls, and every part's
// counter or last error whose name says error, failed, dropped or
// rejected, when it is not zero or empty.
func dumpErrors(h health, healthErr error) []string {
	out := []string{}
	if healthErr != nil {
		return append(out, "health unavailable: "+healthErr.Error())
	}
	if !h.Storage.OK {
		out = append(out, "storage: "+h.Storage.Error)
	}
	if h.ConfigRejects > 0 {
		out = append(out, fmt.Sprintf("config: %d reloads rejected (permd kept the last good config)", h.ConfigRejects))
	}
	ms := make([]string, 0, len(h.Methods))
	for m := range h.Methods {
		ms = append(ms, m)
	}
	sort.Strings(ms)
	for _, m := range ms {
		if f := h.Methods[m].Failed; f > 0 {
			out = append(out, fmt.Sprintf("calls: %s failed %d times", m, f))
		}
	}
	names := make([]string, 0, len(h.Parts))
	for n := range h.Parts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v, err := decodeNumbers(h.Parts[n])
		if err != nil {
			continue
		}
		var walk func(prefix string, v any)
		walk = func(prefix string, v any) {
			m, ok := v.(map[string]any)
			if !ok {
				return
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				key := prefix + k
				if sub, ok := m[k].(map[string]any); ok {
					walk(key+".", sub)
					continue
				}
				if !errorish(k) {
					continue
				}
				switch x := m[k].(type) {
				case string:
					if x != "" {
						out = append(out, fmt.Sprintf("%s: %s: %s", n, key, x))
					}
				case json.Number:
					if x.String() != "0" {
						out = append(out, fmt.Sprintf("%s: %s = %s", n, key, x))
					}
				}
			}
		}
		walk("", v)
	}
	return out
}

func errorish(key string) bool {
	for _, w := range []string{"error", "failed", "dropped", "reject", "overflow", "bad", "timeouts"} {
		if strings.Contains(key, w) {
			return true
		}
	}
	return false
}
