package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"permd/ledger"
	"permd/ledger/store"
)

func init() {
	register(command{name: "ledger", summary: "the record: query | summary | timeline | verify | export (--db FILE reads a pulled copy)", run: runLedger})
}

// ledgerSource is what the read subcommands need; a *ledger.Reader on a
// pulled database and the daemon over the socket both provide it, so the
// same query code answers both.
type ledgerSource interface {
	Query(ctx context.Context, f ledger.Filter, cursor string, limit int) (ledger.Page, error)
	Export(ctx context.Context, f ledger.Filter, cursor string, limit int) (ledger.Page, error)
	Summary(ctx context.Context, f ledger.Filter) ([]ledger.SummaryRow, error)
	Timeline(ctx context.Context, f ledger.Filter, bucket time.Duration) ([]ledger.Bucket, error)
	Verify(ctx context.Context) (ledger.VerifyReport, error)
}

type rpcSource struct{ e *env }

type rpcParams struct {
	ledger.Filter
	Cursor string `json:"cursor,omitempty"`
	Limit  int    `json:"limit,omitempty"`
	Bucket string `json:"bucket,omitempty"`
}

func (s rpcSource) Query(ctx context.Context, f ledger.Filter, cursor string, limit int) (ledger.Page, error) {
	var p ledger.Page
	return p, s.e.call(ctx, "ledger.query", rpcParams{Filter: f, Cursor: cursor, Limit: limit}, &p)
}

func (s rpcSource) Export(ctx context.Context, f ledger.Filter, cursor string, limit int) (ledger.Page, error) {
	var p ledger.Page
	return p, s.e.call(ctx, "ledger.export", rpcParams{Filter: f, Cursor: cursor, Limit: limit}, &p)
}

func (s rpcSource) Summary(ctx context.Context, f ledger.Filter) ([]ledger.SummaryRow, error) {
	var r struct {
		Apps []ledger.SummaryRow `json:"apps"`
	}
	return r.Apps, s.e.call(ctx, "ledger.summary", rpcParams{Filter: f}, &r)
}

func (s rpcSource) Timeline(ctx context.Context, f ledger.Filter, bucket time.Duration) ([]ledger.Bucket, error) {
	var r struct {
		Buckets []ledger.Bucket `json:"buckets"`
	}
	b := "hour"
	if bucket == 24*time.Hour {
		b = "day"
	}
	return r.Buckets, s.e.call(ctx, "ledger.timeline", rpcParams{Filter: f, Bucket: b}, &r)
}

func (s rpcSource) Verify(ctx context.Context) (ledger.VerifyReport, error) {
	var r ledger.VerifyReport
	return r, s.e.call(ctx, "ledger.verify", nil, &r)
}

// parseSince accepts a duration back from now ("24h", "7d") or a date
// ("2026-01-01", RFC 3339).
func parseSince(s string, now time.Time) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.Atoi(n); err == nil && d >= 0 {
			return now.Add(-time.Duration(d) * 24 * time.Hour).UnixMilli(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UnixMilli(), nil
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t.UnixMilli(), nil
		}
	}
	return 0, usagef("bad time %q: want a duration such as 24h or 7d, a date 2026-01-01, or RFC 3339", s)
}

func runLedger(ctx context.Context, e *env, args []string) error {
	sub := "query"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "pull":
		return runLedgerPull(ctx, e, args)
	case "query", "summary", "timeline", "verify", "export":
	default:
		return usagef("unknown ledger subcommand %q (query, summary, timeline, verify, export)", sub)
	}
	fs := newFlags(e, "ledger "+sub, "[--package P] [--uid U] [--category C] [--kind K] [--result R] [--since 24h|2026-01-01] [--until T] [--limit N] [--json|--ndjson] [--db FILE]")
	pkg := fs.String("package", "", "only this package")
	uid := fs.Int("uid", -1, "only this uid")
	user := fs.Int("user", -1, "only this Android user")
	cat := fs.String("category", "", "only this category (see permctl rules)")
	kind := fs.String("kind", "", "only this kind")
	result := fs.String("result", "", "only this result")
	since := fs.String("since", "", "from: 24h, 7d, 2026-01-01 or RFC 3339 (summary default 24h, timeline 7d)")
	until := fs.String("until", "", "until (same forms as --since)")
	limit := fs.Int("limit", 50, "rows to show (query)")
	asJSON := fs.Bool("json", e.json, "print JSON")
	ndjson := fs.Bool("ndjson", false, "print one JSON event per line (query, export)")
	bucket := fs.String("bucket", "hour", "timeline bucket: hour or day")
	dbPath := fs.String("db", "", "read this database file (e.g. pulled with adb pull) instead of asking permd")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	now := time.Now()
	f := ledger.Filter{Package: *pkg, Category: *cat, Kind: *kind}
	if *uid >= 0 {
		f.UID = uid
	}
	if *user >= 0 {
		f.User = user
	}
	if *result != "" {
		r := *result
		if r == "none" {
			r = ""
		}
		f.Result = &r
	}
	var err error
	if f.Since, err = parseSince(*since, now); err != nil {
		return err
	}
	if f.Until, err = parseSince(*until, now); err != nil {
		return err
	}
	var src ledgerSource = rpcSource{e}
	if *dbPath != "" {
		db, err := store.OpenReadOnly(*dbPath)
		if err != nil {
			return err
		}
		defer db.Close()
		src = ledger.NewReader(db)
	}
	switch sub {
	case "query":
		if *limit < 1 {
			return usagef("--limit must be at least 1")
		}
		var evs []ledger.Event
		cursor := ""
		for len(evs) < *limit {
			p, err := src.Query(ctx, f, cursor, min(*limit-len(evs), 1000))
			if err != nil {
				return err
			}
			evs = append(evs, p.Events...)
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		switch {
		case *ndjson:
			return writeNDJSON(e.stdout, evs)
		case *asJSON:
			return e.printJSON(evs)
		}
		return printEvents(e, evs)
	case "export":
		cursor := ""
		for {
			p, err := src.Export(ctx, f, cursor, 1000)
			if err != nil {
				return err
			}
			if err := writeNDJSON(e.stdout, p.Events); err != nil {
				return err
			}
			if cursor = p.Next; cursor == "" {
				return nil
			}
		}
	case "summary":
		if f.Since == 0 {
			f.Since = now.Add(-24 * time.Hour).UnixMilli()
		}
		rows, err := src.Summary(ctx, f)
		if err != nil {
			return err
		}
		if *asJSON {
			return e.printJSON(rows)
		}
		tw := e.table()
		fmt.Fprintln(tw, "UID\tPACKAGES\tCATEGORY\tCOUNT\tBACKGROUND\tFIRST\tLAST\tRESULTS")
		for _, r := range rows {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%.0f%%\t%s\t%s\t%s\n", r.UID, pkgs(r.Packages), r.Category, r.Count, 100*r.BackgroundShare,
				fmtMS(r.First), fmtMS(r.Last), fmtCounts(r.ByResult))
		}
		return tw.Flush()
	case "timeline":
		if f.Since == 0 {
			f.Since = now.Add(-7 * 24 * time.Hour).UnixMilli()
		}
		b := time.Hour
		switch *bucket {
		case "hour":
		case "day":
			b = 24 * time.Hour
		default:
			return usagef("--bucket must be hour or day")
		}
		bs, err := src.Timeline(ctx, f, b)
		if err != nil {
			return err
		}
		if *asJSON {
			return e.printJSON(bs)
		}
		tw := e.table()
		fmt.Fprintln(tw, "FROM\tCOUNT\tROWS\tRESULTS")
		for _, x := range bs {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", fmtMS(x.Start), x.Count, x.Rows, fmtCounts(x.ByResult))
		}
		return tw.Flush()
	case "verify":
		rep, err := src.Verify(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if err := e.printJSON(rep); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(e.stdout, "rows %d: %d sealed, %d open (window not ended), %d removed by retention, %d chains\n", rep.Rows, rep.Sealed, rep.Open, rep.Pruned, rep.Chains)
		}
		if !rep.OK {
			return fmt.Errorf("ledger does not verify: row %d (%s): %s", rep.FirstBad.Seq, rep.FirstBad.Kind, rep.FirstBad.Problem)
		}
		if !*asJSON {
			fmt.Fprintln(e.stdout, "ok: every sealed row verifies")
		}
	}
	return nil
}

func writeNDJSON(w io.Writer, evs []ledger.Event) error {
	enc := json.NewEncoder(w)
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	return nil
}

func printEvents(e *env, evs []ledger.Event) error {
	tw := e.table()
	fmt.Fprintln(tw, "TIME\tCOUNT\tUID\tPACKAGES\tKIND\tCATEGORY\tOP\tRESULT\tSTATE\tDETAIL")
	for _, ev := range evs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fmtMS(ev.Time), ev.Count, ev.UID, pkgs(ev.Packages),
			ev.Kind, ev.Category, dash(ev.Op), dash(ev.Result), dash(ev.AppState), dash(string(ev.Detail)))
	}
	return tw.Flush()
}

func pkgs(p []string) string {
	if len(p) == 0 {
		return "-"
	}
	return strings.Join(p, ",")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fmtMS(ms int64) string { return time.UnixMilli(ms).Local().Format("2006-01-02 15:04:05") }

func fmtCounts(m map[string]int64) string {
	var parts []string
	for _, k := range []string{"allowed", "denied", "reduced", "decoy", "rate_limited", "ok", "fail", "warn", "none"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	return strings.Join(parts, " ")
}
