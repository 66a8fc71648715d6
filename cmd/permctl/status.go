package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"permd/framework/client"
)

func init() {
	register(command{name: "status", summary: "daemon health: uptime, storage, connections, calls per method", run: runStatus})
	register(command{name: "version", summary: "permctl and permd versions, protocol, SQLite driver", run: runVersion})
	register(command{name: "call", summary: "call any method: permctl call METHOD [JSON-PARAMS]", run: runCall})
}

type health struct {
	Status        string `json:"status"`
	UptimeMS      int64  `json:"uptime_ms"`
	Connections   int    `json:"connections"`
	ConfigDir     string `json:"config_dir"`
	ConfigLoads   uint64 `json:"config_reloads"`
	ConfigRejects uint64 `json:"config_rejects"`
	Storage       struct {
		OK     bool   `json:"ok"`
		Driver string `json:"driver"`
		Error  string `json:"error"`
	} `json:"storage"`
	Methods map[string]struct {
		OK     uint64 `json:"ok"`
		Failed uint64 `json:"failed"`
	} `json:"methods"`
	Parts map[string]json.RawMessage `json:"parts"`
	You   struct {
		UID  int    `json:"uid"`
		Role string `json:"role"`
	} `json:"you"`
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "status", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var raw json.RawMessage
	err := e.call(ctx, "sys.health", map[string]bool{"detail": true}, &raw)
	if re := (*client.RPCError)(nil); errors.As(err, &re) && re.Code == -32000 {
		// Only roles that read every app's records see the daemon-wide
		// figures; others get the summary.
		err = e.call(ctx, "sys.health", nil, &raw)
	}
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(raw)
	}
	var h health
	if err := json.Unmarshal(raw, &h); err != nil {
		return err
	}
	tw := e.table()
	fmt.Fprintf(tw, "status\t%s\n", h.Status)
	fmt.Fprintf(tw, "uptime\t%s\n", (time.Duration(h.UptimeMS) * time.Millisecond).Round(time.Second))
	st := "ok"
	if !h.Storage.OK {
		st = "FAILING: " + h.Storage.Error
	}
	fmt.Fprintf(tw, "storage\t%s (%s)\n", st, h.Storage.Driver)
	fmt.Fprintf(tw, "connections\t%d\n", h.Connections)
	fmt.Fprintf(tw, "config\t%s (%d reloads, %d rejected)\n", h.ConfigDir, h.ConfigLoads, h.ConfigRejects)
	fmt.Fprintf(tw, "you\tuid %d, role %s\n", h.You.UID, h.You.Role)
	names := make([]string, 0, len(h.Parts))
	for n := range h.Parts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t%s\n", n, string(h.Parts[n]))
	}
	tw.Flush()
	if len(h.Methods) > 0 {
		fmt.Fprintln(e.stdout, "\ncalls:")
		tw = e.table()
		fmt.Fprintln(tw, "  METHOD\tOK\tFAILED")
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

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var v struct {
		Version  string `json:"version"`
		Protocol int    `json:"protocol"`
		Driver   string `json:"sqlite_driver"`
		Go       string `json:"go"`
		Platform string `json:"platform"`
	}
	err := e.call(ctx, "sys.version", nil, &v)
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
		return err
	}
	return e.printJSON(res)
}
