package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

func init() {
	register(command{name: "starts", summary: "background self-starts, associated starts and user starts from the record", run: runStarts})
	register(command{name: "procs", summary: "running processes with their packages and app states", run: runProcs})
}

// startKinds maps --kind to the ledger's kind codes.
var startKinds = map[string]string{"self": "self_start", "associated": "associated_start", "user": "user_start"}

// startRow is the part of a ledger.query event that starts use.
type startRow struct {
	Time     int64    `json:"time_ms"`
	Last     int64    `json:"last_ms"`
	Count    int64    `json:"count"`
	UID      int      `json:"uid"`
	Packages []string `json:"packages"`
	Kind     string   `json:"kind"`
	AppState string   `json:"app_state"`
	Detail   struct {
		Reason    string   `json:"reason"`
		Component string   `json:"component"`
		Process   string   `json:"process"`
		Caller    string   `json:"caller"`
		CallerUID *int     `json:"caller_uid"`
		Sources   []string `json:"sources"`
		Conflict  string   `json:"conflict"`
	} `json:"detail"`
}

// runStarts reads start rows through ledger.query (params: category,
// kind, package, since_ms, limit; result {events, next}).
func runStarts(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "starts", "[--package P] [--kind self|associated|user] [--since 24h] [--limit N]")
	pkg := fs.String("package", "", "only this package")
	kind := fs.String("kind", "", "self, associated or user (default all)")
	since := fs.String("since", "24h", "from: a duration back (30m, 24h, 7d, 1w), a date 2026-12-01 or RFC 3339")
	limit := fs.Int("limit", 100, "most rows to show (1..1000)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("starts: unexpected argument %q", fs.Arg(0))
	}
	params := map[string]any{"category": "process", "limit": *limit}
	if *kind != "" {
		k, ok := startKinds[*kind]
		if !ok {
			return usagef("starts: --kind %q is not self, associated or user", *kind)
		}
		params["kind"] = k
	}
	from, err := parseWhen(*since, time.Now(), false, false)
	if err != nil {
		return usagef("starts: --since: %v", err)
	}
	if *limit < 1 || *limit > 1000 {
		return usagef("starts: --limit %d is outside 1..1000", *limit)
	}
	params["since_ms"] = from.t.UnixMilli()
	if *pkg != "" {
		params["package"] = *pkg
	}
	var page struct {
		Events []json.RawMessage `json:"events"`
		Next   string            `json:"next"`
	}
	if err := e.call(ctx, "ledger.query", params, &page); err != nil {
		return err
	}
	if e.json {
		return e.printList(page.Events, page.Next)
	}
	tw := e.table().cutColumn(8)
	fmt.Fprintln(tw, e.heads("TIME", "PACKAGE", "KIND", "STATE", "REASON", "CALLER", "COMPONENT", "COUNT", "NOTE"))
	for _, raw := range page.Events {
		var r startRow
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("decode row: %w", err)
		}
		name := strings.Join(r.Packages, ",")
		if name == "" {
			name = fmt.Sprintf("uid %d", r.UID)
		}
		caller := r.Detail.Caller
		if caller == "" && r.Detail.CallerUID != nil {
			caller = fmt.Sprintf("uid %d", *r.Detail.CallerUID)
		}
		note := ""
		if r.Detail.Conflict != "" {
			note = "sources disagree: " + r.Detail.Conflict
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
			fmtMS(r.Time), name, strings.TrimSuffix(r.Kind, "_start"), dash(r.AppState),
			dash(r.Detail.Reason), dash(caller), dash(r.Detail.Component), r.Count, note)
	}
	tw.Flush()
	if page.Next != "" {
		fmt.Fprintln(e.stdout, e.msg("more_starts", len(page.Events)))
	}
	return nil
}

func runProcs(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "procs", "[--package P] [--apps]")
	pkg := fs.String("package", "", "only this package's processes")
	apps := fs.Bool("apps", false, "only processes of known packages")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("procs: unexpected argument %q", fs.Arg(0))
	}
	params := map[string]any{"apps_only": *apps}
	if *pkg != "" {
		params["package"] = *pkg
	}
	var res struct {
		Mode      string `json:"mode"`
		Processes []struct {
			PID      int      `json:"pid"`
			PPID     int      `json:"ppid"`
			UID      int      `json:"uid"`
			Name     string   `json:"name"`
			Oom      *int     `json:"oom_score_adj"`
			Band     string   `json:"band"`
			Packages []string `json:"packages"`
			AppState string   `json:"app_state"`
		} `json:"processes"`
	}
	var raw json.RawMessage
	if err := e.call(ctx, "proc.list", params, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	if e.json {
		var all struct {
			Processes []json.RawMessage `json:"processes"`
		}
		if err := json.Unmarshal(raw, &all); err != nil {
			return err
		}
		return e.printList(all.Processes, "", "mode", res.Mode)
	}
	tw := e.table().cutColumn(7)
	fmt.Fprintln(tw, e.heads("PID", "PPID", "UID", "NAME", "OOM_ADJ", "BAND", "APP_STATE", "PACKAGES"))
	for _, p := range res.Processes {
		oom := "-"
		if p.Oom != nil {
			oom = fmt.Sprint(*p.Oom)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", p.PID, p.PPID, p.UID, p.Name, oom, dash(p.Band), dash(p.AppState), dash(strings.Join(p.Packages, ",")))
	}
	tw.Flush()
	fmt.Fprintln(e.stdout, e.msg("procs_total", len(res.Processes), res.Mode))
	return nil
}
