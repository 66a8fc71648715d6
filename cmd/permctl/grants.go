package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"permd/framework/protocol"
)

func init() {
	register(command{name: "grants", summary: "list grants: permctl grants [--package P] [--user U] [--category C]", run: runGrants})
	register(command{name: "grant", summary: "set a grant: permctl grant PACKAGE CATEGORY [--once|--while-in-use|--for 1h|--until DATE|--window 09:00-18:00|--always] [--max 10/hour] [--precision 3km|selected|empty]", run: runGrant})
	register(command{name: "revoke", summary: "revoke a grant: permctl revoke PACKAGE CATEGORY [--user U]", run: runRevoke})
	register(command{name: "catalogue", summary: "permission categories, options and risks: permctl catalogue [--lang zh-CN|en]", run: runCatalogue})
}

// grantView is a grant as permd returns it, with the texts permctl
// shows for it.
type grantView protocol.Grant

func (g grantView) timeText() string {
	t := g.Time
	s := t.Mode
	switch t.Mode {
	case "duration":
		s = "for " + shortDuration(t.For) + " (to " + g.Set.Add(mustDuration(t.For)).Local().Format("2006-01-02 15:04") + ")"
	case "until":
		s = "until " + t.Until.Local().Format("2006-01-02 15:04")
	case "window":
		s = "daily " + t.Window
	}
	if t.Background && t.Mode != "always" {
		s += " +background"
	}
	return s
}

// shortDuration drops the zero tails time.Duration.String adds:
// "24h0m0s" → "24h", "1h30m0s" → "1h30m".
func shortDuration(s string) string {
	if d, err := time.ParseDuration(s); err == nil && d >= time.Minute {
		s = d.String()
		s = strings.TrimSuffix(s, "0s")
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func mustDuration(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

func (g grantView) freqText() string {
	if g.Frequency == nil {
		return "-"
	}
	return fmt.Sprintf("%d/%s", g.Frequency.Max, g.Frequency.Per)
}

func (g grantView) precisionText() string {
	p := g.Precision
	switch {
	case p.RadiusM > 0:
		return fmt.Sprintf("%s %dm", p.Level, p.RadiusM)
	case len(p.Items) > 0:
		return fmt.Sprintf("%s (%d items)", p.Level, len(p.Items))
	}
	return p.Level
}

func runGrants(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "grants", "[--package P] [--user U] [--category C]")
	pkg := fs.String("package", "", "only this package")
	user := fs.Int("user", -1, "only this Android user")
	category := fs.String("category", "", "only this category")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("grants: unexpected argument %q", fs.Arg(0))
	}
	params := protocol.GrantsListParams{Package: *pkg}
	if *user >= 0 {
		params.User = user
	}
	if *category != "" {
		c, err := resolveCategory(ctx, e, *category)
		if err != nil {
			return err
		}
		params.Category = c
	}
	var raw json.RawMessage
	if err := e.call(ctx, protocol.MethodGrantsList, params, &raw); err != nil {
		return err
	}
	if e.json {
		var res struct {
			Grants []json.RawMessage `json:"grants"`
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			return err
		}
		items := make([]any, len(res.Grants))
		for i, g := range res.Grants {
			v, err := decodeNumbers(g)
			if err != nil {
				return err
			}
			items[i] = withMS(v)
		}
		return e.printList(items, "")
	}
	var res protocol.GrantsListResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	if len(res.Grants) == 0 {
		fmt.Fprintln(e.stdout, e.msg("no grants"))
		return nil
	}
	// No column is cut: a grant's every field matters.
	tw := e.table()
	fmt.Fprintln(tw, e.heads("USER", "PACKAGE", "CATEGORY", "DECISION", "TIME", "FREQUENCY", "PRECISION", "BY", "SET"))
	for _, pg := range res.Grants {
		g := grantView(pg)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.User, g.Package, g.Category, g.Decision,
			g.timeText(), g.freqText(), g.precisionText(), g.By, g.Set.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// parseInterleaved parses flags that may come before, between or after
// positional arguments ("permctl grant PKG CAT --once").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

var (
	maxRE    = regexp.MustCompile(`^([0-9]+)/(minute|hour|day|session)$`)
	radiusRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(m|km)$`)
)

// precisionLevels maps the short forms of --precision to level ids.
var precisionLevels = map[string]string{"1km": "approx_1km", "3km": "approx_3km", "10km": "city"}

func runGrant(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "grant", "PACKAGE CATEGORY|PERMISSION|APP-OP [time option] [--max N/WINDOW] [--precision LEVEL] [--user U]")
	once := fs.Bool("once", false, "only this time: ends when the app leaves the foreground (after a grace)")
	inUse := fs.Bool("while-in-use", false, "while the app is in the foreground")
	dur := fs.String("for", "", "for a duration: 30m, 1h, 24h, 7d, 1w")
	until := fs.String("until", "", "until the end of DATE (2026-12-01, the device's time zone), an RFC 3339 time, or a duration ahead (7d)")
	window := fs.String("window", "", "every day between HH:MM-HH:MM (local time)")
	always := fs.Bool("always", false, "always, including in the background")
	background := fs.Bool("background", false, "with --for/--until/--window: include background use")
	deny := fs.Bool("deny", false, "deny instead of allow")
	max := fs.String("max", "", "at most N accesses per minute|hour|day|session, e.g. 10/hour")
	precision := fs.String("precision", "", "precision level: an id from `permctl catalogue`, 1km, 3km, 10km, a radius such as 2500m, selected, empty, ...")
	items := fs.String("items", "", "with --precision selected: comma-separated item ids the app may see")
	user := fs.Int("user", 0, "Android user id")
	uid := fs.Int("uid", -1, "the app's uid, when known")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("grant: want PACKAGE CATEGORY, got %d arguments", len(pos))
	}
	if pos[1], err = resolveCategory(ctx, e, pos[1]); err != nil {
		return err
	}
	g := map[string]any{"package": pos[0], "category": pos[1], "user": *user}
	if *uid >= 0 {
		g["uid"] = *uid
		userSet := false
		fs.Visit(func(f *flag.Flag) { userSet = userSet || f.Name == "user" })
		if !userSet {
			delete(g, "user") // the uid names the user
		}
	}
	var modes []string
	tr := map[string]any{}
	if *once {
		modes, tr["mode"] = append(modes, "--once"), "once"
	}
	if *inUse {
		modes, tr["mode"] = append(modes, "--while-in-use"), "while_in_use"
	}
	if *dur != "" {
		d, err := parseSpan(*dur)
		if err != nil || d <= 0 {
			return usagef("grant: --for %q is not a duration such as 1h, 24h or 7d", *dur)
		}
		modes, tr["mode"], tr["for"] = append(modes, "--for"), "duration", d.String()
	}
	if *until != "" {
		w, err := parseWhen(*until, time.Now(), true, true)
		if err != nil {
			return usagef("grant: --until: %v", err)
		}
		if w.note != "" {
			fmt.Fprintf(e.stderr, "permctl: --until %s\n", w.note)
		}
		modes, tr["mode"], tr["until"] = append(modes, "--until"), "until", w.t.Format(time.RFC3339)
	}
	if *window != "" {
		modes, tr["mode"], tr["window"] = append(modes, "--window"), "window", *window
	}
	if *always {
		// Choosing --always on the command line is the explicit choice
		// that background location needs.
		modes, tr["mode"], tr["background"] = append(modes, "--always"), "always", true
	}
	if *background {
		tr["background"] = true
	}
	if *deny {
		if len(modes) > 0 || *max != "" || *precision != "" || *items != "" || *background {
			return usagef("grant: --deny takes no time, --max, --precision or --items option")
		}
		g["decision"] = "deny"
		return setGrant(ctx, e, g)
	}
	switch len(modes) {
	case 0:
		return usagef("grant: choose one of --once, --while-in-use, --for, --until, --window, --always")
	case 1:
	default:
		return usagef("grant: %s contradict each other: choose one", strings.Join(modes, " and "))
	}
	g["decision"] = "allow"
	g["time"] = tr
	if *max != "" {
		m := maxRE.FindStringSubmatch(*max)
		if m == nil {
			return usagef("grant: --max %q: want N/minute, N/hour, N/day or N/session", *max)
		}
		n, _ := strconv.Atoi(m[1])
		g["frequency"] = map[string]any{"max": n, "per": m[2]}
	}
	if *precision != "" || *items != "" {
		p := map[string]any{}
		lvl := *precision
		if id, ok := precisionLevels[lvl]; ok {
			lvl = id
		} else if m := radiusRE.FindStringSubmatch(lvl); m != nil {
			r, _ := strconv.ParseFloat(m[1], 64)
			if m[2] == "km" {
				r *= 1000
			}
			lvl = "custom"
			p["radius_m"] = int(r)
		}
		if lvl != "" {
			p["level"] = lvl
		}
		if *items != "" {
			p["items"] = strings.Split(*items, ",")
		}
		g["precision"] = p
	}
	return setGrant(ctx, e, g)
}

func setGrant(ctx context.Context, e *env, g map[string]any) error {
	var raw json.RawMessage
	if err := e.call(ctx, protocol.MethodGrantsSet, g, &raw); err != nil {
		return err
	}
	if e.json {
		return e.printObject(raw)
	}
	var res protocol.GrantResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return err
	}
	v := grantView(res.Grant)
	if v.Decision == "deny" {
		fmt.Fprintln(e.stdout, e.msg("denied_set", v.Package, v.Category, v.User, v.Version))
		return nil
	}
	fmt.Fprintln(e.stdout, e.msg("granted", v.Package, v.Category, v.timeText(), v.freqText(), v.precisionText(), v.User, v.Version))
	return nil
}

func runRevoke(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "revoke", "PACKAGE CATEGORY|PERMISSION|APP-OP [--user U]")
	user := fs.Int("user", 0, "Android user id")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("revoke: want PACKAGE CATEGORY, got %d arguments", len(pos))
	}
	if pos[1], err = resolveCategory(ctx, e, pos[1]); err != nil {
		return err
	}
	var raw json.RawMessage
	if err := e.call(ctx, protocol.MethodGrantsRevoke, protocol.GrantKey{Package: pos[0], Category: pos[1], User: *user}, &raw); err != nil {
		return err
	}
	if e.json {
		return e.printObject(raw)
	}
	fmt.Fprintln(e.stdout, e.msg("revoked", pos[0], pos[1], *user))
	return nil
}

func runCatalogue(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "catalogue", "[--lang zh-CN|en]")
	lang := &e.lang
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("catalogue: unexpected argument %q", fs.Arg(0))
	}
	var raw json.RawMessage
	if err := e.call(ctx, protocol.MethodGrantsCatalogue, protocol.CatalogueParams{Lang: *lang}, &raw); err != nil {
		return err
	}
	if e.json {
		return e.printObject(raw)
	}
	var cat protocol.Catalogue
	if err := json.Unmarshal(raw, &cat); err != nil {
		return err
	}
	for i, c := range cat.Categories {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "%s — %s\n", c.ID, c.Label[*lang])
		kv := e.table()
		fmt.Fprintf(kv, "  %s:\t%s\n", e.msg("risk"), c.Risk[*lang])
		fmt.Fprintf(kv, "  %s:\t%s\n", e.msg("permissions"), strings.Join(c.Permissions, ", "))
		fmt.Fprintf(kv, "  %s:\t%s\n", e.msg("time"), e.msg("time_modes", strings.Join(c.TimeModes, ", "), c.Background))
		var lv []string
		for _, l := range c.Levels {
			s := l.ID + " (" + l.Label[*lang] + ")"
			if l.ID == c.DefaultLevel {
				s += " " + e.msg("[default]")
			}
			lv = append(lv, s)
		}
		fmt.Fprintf(kv, "  %s:\t%s\n", e.msg("precision"), strings.Join(lv, ", "))
		kv.Flush()
	}
	return nil
}
