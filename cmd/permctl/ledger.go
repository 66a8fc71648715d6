package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"permd/framework/protocol"
	"permd/framework/wire"
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
	CheckAndVerify(ctx context.Context) (ledger.CheckedReport, error)
	Count(ctx context.Context, f ledger.Filter) (int64, error)
}

// rpcSource reads the record from the daemon. It speaks the protocol's
// types on the wire and hands the ledger's to the shared query code
// (their JSON is one and the same; framework/wire_test.go holds them so).
type rpcSource struct{ e *env }

// Count asks ledger.query for one row and the total (given when the page
// is cut, that is when more than one row matches).
func (s rpcSource) Count(ctx context.Context, f ledger.Filter) (int64, error) {
	var p protocol.Page
	if err := s.e.call(ctx, protocol.MethodLedgerQuery, protocol.QueryParams{Filter: protocol.Filter(f), Limit: 1, Count: true}, &p); err != nil {
		return 0, err
	}
	if p.Total != nil {
		return *p.Total, nil
	}
	return int64(len(p.Events)), nil
}

func (s rpcSource) Query(ctx context.Context, f ledger.Filter, cursor string, limit int) (ledger.Page, error) {
	var p protocol.Page
	err := s.e.call(ctx, protocol.MethodLedgerQuery, protocol.QueryParams{Filter: protocol.Filter(f), Cursor: cursor, Limit: limit}, &p)
	return ledgerPage(p), err
}

func (s rpcSource) Export(ctx context.Context, f ledger.Filter, cursor string, limit int) (ledger.Page, error) {
	var p protocol.Page
	err := s.e.call(ctx, protocol.MethodLedgerExport, protocol.ExportParams{Filter: protocol.Filter(f), Cursor: cursor, Limit: limit}, &p)
	return ledgerPage(p), err
}

func (s rpcSource) Summary(ctx context.Context, f ledger.Filter) ([]ledger.SummaryRow, error) {
	var r protocol.SummaryResult
	err := s.e.call(ctx, protocol.MethodLedgerSummary, protocol.SummaryParams{Filter: protocol.Filter(f)}, &r)
	return wire.List(r.Apps, func(a protocol.SummaryRow) ledger.SummaryRow { return ledger.SummaryRow(a) }), err
}

func (s rpcSource) Timeline(ctx context.Context, f ledger.Filter, bucket time.Duration) ([]ledger.Bucket, error) {
	var r protocol.TimelineResult
	b := "hour"
	if bucket == 24*time.Hour {
		b = "day"
	}
	err := s.e.call(ctx, protocol.MethodLedgerTimeline, protocol.TimelineParams{Filter: protocol.Filter(f), Bucket: b}, &r)
	return wire.List(r.Buckets, func(b protocol.Bucket) ledger.Bucket { return ledger.Bucket(b) }), err
}

func (s rpcSource) CheckAndVerify(ctx context.Context) (ledger.CheckedReport, error) {
	var r protocol.VerifyResult
	err := s.e.call(ctx, protocol.MethodLedgerVerify, nil, &r)
	out := ledger.CheckedReport{
		VerifyReport: ledger.VerifyReport{OK: r.OK, Rows: r.Rows, Sealed: r.Sealed, Open: r.Open, Pruned: r.Pruned, Chains: r.Chains,
			Problems: wire.List(r.Problems, func(b protocol.BadRow) ledger.BadRow { return ledger.BadRow(b) })},
		Integrity: r.Integrity, Error: r.Error,
	}
	if r.FirstBad != nil {
		b := ledger.BadRow(*r.FirstBad)
		out.FirstBad = &b
	}
	return out, err
}

func ledgerPage(p protocol.Page) ledger.Page {
	return ledger.Page{Events: wire.List(p.Events, func(e protocol.Event) ledger.Event { return ledger.Event(e) }), Next: p.Next, Total: p.Total}
}

// ledgerSubs are ledger's subcommands, with what each is for.
var ledgerSubs = []struct{ name, summary string }{
	{"query", "rows of the record, newest first (the default)"},
	{"summary", "per app and category: counts, background share, first and last use"},
	{"timeline", "counts per hour or day"},
	{"verify", "check every row's hash chain"},
	{"export", "every matching row as NDJSON on stdout (progress on stderr)"},
	{"pull", "copy the database from a device without an adb server (host build: --device SERIAL FILE)"},
}

func ledgerUsage(e *env) {
	fmt.Fprintln(e.stdout, "usage: permctl ledger [query|summary|timeline|verify|export|pull] [flags]")
	fmt.Fprintln(e.stdout, "\nsubcommands:")
	tw := e.table()
	for _, s := range ledgerSubs {
		fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
	}
	tw.Flush()
	fmt.Fprintln(e.stdout, "\n\"permctl ledger SUBCOMMAND -h\" lists its flags.")
	fmt.Fprintln(e.stdout, "\nglobal flags (before or after the command):")
	fmt.Fprint(e.stdout, globalsHelp())
}

func runLedger(ctx context.Context, e *env, args []string) error {
	sub := "query"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		ledgerUsage(e)
		return errHelp
	}
	var names []string
	for _, s := range ledgerSubs {
		names = append(names, s.name)
	}
	if !slices.Contains(names, sub) {
		return usagef("unknown ledger subcommand %q%s (one of %s)", sub, didYouMean(sub, names), strings.Join(names, ", "))
	}
	if sub == "pull" {
		return runLedgerPull(ctx, e, args)
	}
	filters := "[--package P] [--uid U] [--user U] [--category C] [--kind K] [--result R] [--since 24h|7d|2026-01-01] [--until T]"
	usageLine := map[string]string{
		"query":    filters + " [--limit N] [--ndjson] [--db FILE]",
		"summary":  filters + " [--db FILE]",
		"timeline": filters + " [--bucket hour|day] [--db FILE]",
		"verify":   "[--db FILE]",
		"export":   filters + " [--db FILE]",
	}[sub]
	fs := newFlags(e, "ledger "+sub, usageLine)
	var pkg, cat, kind, result, since, until *string
	uid, user := new(int), new(int)
	*uid, *user = -1, -1
	if sub != "verify" {
		pkg = fs.String("package", "", "only this package")
		uid = fs.Int("uid", -1, "only this uid")
		user = fs.Int("user", -1, "only this Android user")
		cat = fs.String("category", "", "only this category (see permctl rules)")
		kind = fs.String("kind", "", "only this kind")
		result = fs.String("result", "", "only this result (none: rows without one)")
		defSince := map[string]string{"summary": " (default 24h)", "timeline": " (default 7d)"}[sub]
		since = fs.String("since", "", "from: a duration back (30s, 10m, 24h, 7d, 1w), a date 2026-12-01 or RFC 3339"+defSince)
		until = fs.String("until", "", "until: same forms; a date means the end of that day in the device's time zone")
	}
	limit := new(int)
	ndjson := new(bool)
	bucket := new(string)
	switch sub {
	case "query":
		limit = fs.Int("limit", 50, "rows to show")
		ndjson = fs.Bool("ndjson", false, "print one JSON event per line")
	case "timeline":
		bucket = fs.String("bucket", "hour", "bucket: hour or day")
	}
	dbPath := fs.String("db", "", "read this database file (e.g. pulled with adb exec-out) instead of asking permd")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("ledger %s: unexpected argument %q", sub, fs.Arg(0))
	}
	now := time.Now()
	var f ledger.Filter
	if sub != "verify" {
		f = ledger.Filter{Package: *pkg, Category: *cat, Kind: *kind}
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
		if *since != "" {
			w, err := parseWhen(*since, now, false, false)
			if err != nil {
				return usagef("--since: %v", err)
			}
			f.Since = w.t.UnixMilli()
		}
		if *until != "" {
			w, err := parseWhen(*until, now, true, false)
			if err != nil {
				return usagef("--until: %v", err)
			}
			f.Until = w.t.UnixMilli()
			if w.note != "" {
				fmt.Fprintf(e.stderr, "permctl: --until %s\n", w.note)
			}
		}
	}
	if f.Category != "" && *dbPath == "" {
		c, err := resolveCategory(ctx, e, f.Category)
		if err != nil {
			return err
		}
		f.Category = c
	}
	var src ledgerSource = rpcSource{e}
	if *dbPath != "" {
		r, closeDB, err := openPulled(*dbPath)
		if err != nil {
			return err
		}
		defer closeDB()
		src = r
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
		case e.json:
			return e.printList(evs, cursor)
		}
		if err := printEvents(e, evs); err != nil {
			return err
		}
		if cursor != "" {
			total, err := src.Count(ctx, f)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s\n", e.msg("more", len(evs), thousands(total)))
		}
		return nil
	case "export":
		return exportLedger(ctx, e, src, f)
	case "summary":
		if f.Since == 0 {
			f.Since = now.Add(-24 * time.Hour).UnixMilli()
		}
		rows, err := src.Summary(ctx, f)
		if err != nil {
			return err
		}
		if e.json {
			return e.printList(rows, "")
		}
		tw := e.table().cutColumn(1)
		fmt.Fprintln(tw, e.heads("UID", "PACKAGES", "CATEGORY", "COUNT", "BACKGROUND", "FIRST", "LAST", "RESULTS"))
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
		if e.json {
			return e.printList(bs, "")
		}
		tw := e.table()
		fmt.Fprintln(tw, e.heads("FROM", "COUNT", "ROWS", "RESULTS"))
		for _, x := range bs {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", fmtMS(x.Start), x.Count, x.Rows, fmtCounts(x.ByResult))
		}
		return tw.Flush()
	case "verify":
		rep, err := src.CheckAndVerify(ctx)
		if err != nil {
			return err
		}
		if e.json {
			if err := e.printJSON(rep); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(e.stdout, e.msg("verify_rows", rep.Rows, rep.Sealed, rep.Open, rep.Pruned, rep.Chains))
		}
		if len(rep.Integrity) > 0 {
			msg := "database file is damaged: " + strings.Join(rep.Integrity, "; ")
			if rep.Error != "" {
				msg += "; reading the chain failed: " + rep.Error
			}
			return fmt.Errorf("ledger does not verify: %s (recovery: %s)", msg, store.Recovery)
		}
		if !rep.OK && rep.FirstBad != nil {
			if !e.json {
				for _, p := range rep.Problems[1:] {
					fmt.Fprintln(e.stdout, "also:", p.Problem)
				}
			}
			if b := rep.FirstBad; b.Kind != "" {
				return fmt.Errorf("ledger does not verify: row %d (%s): %s", b.Seq, b.Kind, b.Problem)
			}
			// Problems across kinds name their rows in the text.
			return fmt.Errorf("ledger does not verify: %s", rep.FirstBad.Problem)
		}
		if !rep.OK {
			return fmt.Errorf("ledger does not verify")
		}
		if !e.json {
			fmt.Fprintln(e.stdout, e.msg("verify_ok"))
		}
	}
	return nil
}

// exportProgressEvery is how often (in rows) export says how far it got
// when stderr is not a terminal (a log, adb shell without a pty).
const exportProgressEvery = 100000

// exportLedger writes every matching row as NDJSON on stdout, in pages,
// and progress and the final row count on stderr, so stdout stays
// byte-for-byte the export (pull it with adb exec-out, which keeps bytes
// as they are).
func exportLedger(ctx context.Context, e *env, src ledgerSource, f ledger.Filter) error {
	tty := isTerminal(e.stderr)
	cursor, n, said := "", 0, 0
	for {
		p, err := src.Export(ctx, f, cursor, 1000)
		if err != nil {
			return err
		}
		if err := writeNDJSON(e.stdout, p.Events); err != nil {
			return err
		}
		n += len(p.Events)
		if cursor = p.Next; cursor == "" {
			break
		}
		switch {
		case tty:
			fmt.Fprintf(e.stderr, "\rpermctl: exported %d rows...", n)
		case n-said >= exportProgressEvery:
			fmt.Fprintf(e.stderr, "permctl: exported %d rows...\n", n)
			said = n
		}
	}
	if tty {
		fmt.Fprint(e.stderr, "\r")
	}
	fmt.Fprintf(e.stderr, "permctl: exported %d rows\n", n)
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
	tw := e.table().cutColumn(9)
	fmt.Fprintln(tw, e.heads("TIME", "COUNT", "UID", "PACKAGES", "KIND", "CATEGORY", "OP", "RESULT", "STATE", "DETAIL"))
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
