package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"permd/framework/protocol"
)

func init() {
	register(command{name: "starts", summary: "background self-starts, associated starts and user starts from the record", run: runStarts})
	register(command{name: "procs", summary: "running processes with their packages and app states", run: runProcs})
}

// startKinds maps --kind to the ledger's kind codes.
var startKinds = map[string]string{"self": "self_start", "associated": "associated_start", "user": "user_start"}

// startDetail is the detail of a start row, in the keys the recording
// rules give the start kinds (docs/process-tracking.md).
type startDetail struct {
	Reason    string   `json:"reason"`
	Component string   `json:"component"`
	Process   string   `json:"process"`
	Caller    string   `json:"caller"`
	CallerUID *int     `json:"caller_uid"`
	Sources   []string `json:"sources"`
	Conflict  string   `json:"conflict"`
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
	params := protocol.QueryParams{Filter: protocol.Filter{Category: "process", Package: *pkg}, Limit: *limit}
	if *kind != "" {
		k, ok := startKinds[*kind]
		if !ok {
			return usagef("starts: --kind %q is not self, associated or user", *kind)
		}
		params.Kind = k
	}
	from, err := parseWhen(*since, time.Now(), false, false)
	if err != nil {
		return usagef("starts: --since: %v", err)
	}
	if *limit < 1 || *limit > 1000 {
		return usagef("starts: --limit %d is outside 1..1000", *limit)
	}
	params.Since = from.t.UnixMilli()
	var raw json.RawMessage
	if err := e.call(ctx, protocol.MethodLedgerQuery, params, &raw); err != nil {
		return err
	}
	var page protocol.Page
	if err := json.Unmarshal(raw, &page); err != nil {
		return fmt.Errorf("decode ledger.query: %w", err)
	}
	if e.json {
		// The rows as permd sent them, not as permctl decoded them.
		var rows struct {
			Events []json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal(raw, &rows); err != nil {
			return err
		}
		return e.printList(rows.Events, page.Next)
	}
	tw := e.table().cutColumn(8)
	fmt.Fprintln(tw, e.heads("TIME", "PACKAGE", "KIND", "STATE", "REASON", "CALLER", "COMPONENT", "COUNT", "NOTE"))
	for _, r := range page.Events {
		var d startDetail
		if len(r.Detail) > 0 {
			if err := json.Unmarshal(r.Detail, &d); err != nil {
				return fmt.Errorf("decode row %d detail: %w", r.Seq, err)
			}
		}
		name := strings.Join(r.Packages, ",")
		if name == "" {
			name = fmt.Sprintf("uid %d", r.UID)
		}
		caller := d.Caller
		if caller == "" && d.CallerUID != nil {
			caller = fmt.Sprintf("uid %d", *d.CallerUID)
		}
		note := ""
		if d.Conflict != "" {
			note = "sources disagree: " + d.Conflict
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
			fmtMS(r.Time), name, strings.TrimSuffix(r.Kind, "_start"), dash(r.AppState),
			dash(d.Reason), dash(caller), dash(d.Component), r.Count, note)
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
	params := protocol.ProcListParams{AppsOnly: *apps, Package: *pkg}
	var res protocol.ProcListResult
	var raw json.RawMessage
	if err := e.call(ctx, protocol.MethodProcList, params, &raw); err != nil {
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
		if p.OomScoreAdj != nil {
			oom = fmt.Sprint(*p.OomScoreAdj)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", p.PID, p.PPID, p.UID, p.Name, oom, dash(p.Band), dash(p.AppState), dash(strings.Join(p.Packages, ",")))
	}
	tw.Flush()
	fmt.Fprintln(e.stdout, e.msg("procs_total", len(res.Processes), res.Mode))
	return nil
}
