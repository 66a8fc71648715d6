package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"permd/framework/client"
	"permd/framework/protocol"
)

func init() {
	register(command{name: "indicators", summary: "what the status-bar indicators show now; --watch streams changes", run: runIndicators})
}

func runIndicators(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "indicators", "[--watch] [--lang en|zh-CN]")
	watch := fs.Bool("watch", false, "stream every change as one line until interrupted")
	lang := &e.lang
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("indicators: unexpected argument %q", fs.Arg(0))
	}
	if !*watch {
		var raw json.RawMessage
		if err := e.call(ctx, protocol.MethodIndicatorGet, nil, &raw); err != nil {
			return err
		}
		if e.json {
			return e.printObject(raw)
		}
		var s protocol.IndicatorSnapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("decode indicator.get: %w", err)
		}
		printIndicatorTable(e, &s, *lang)
		return nil
	}
	return watchIndicators(ctx, e, *lang)
}

func printIndicatorTable(e *env, s *protocol.IndicatorSnapshot, lang string) {
	tw := e.table().cutColumn(6)
	fmt.Fprintln(tw, e.heads("RESOURCE", "STATE", "APP", "UID", "USES", "SINCE", "VIA"))
	for _, r := range s.Resources {
		name := r.Resource
		if l := r.Labels[lang]; l != "" && lang != "en" {
			name += " (" + l + ")"
		}
		if len(r.Apps) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\n", name, e.msg("off"))
			continue
		}
		for _, a := range r.Apps {
			state := e.msg("on")
			if a.Active == 0 && a.HeldUntil != nil {
				state = e.msg("held_until", a.HeldUntil.Local().Format("15:04:05"))
			}
			var via []string
			for _, v := range a.Via {
				via = append(via, fmt.Sprintf("%s(%d)", orDash(v.Package), v.UID))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", name, state, a.Package, a.UID, a.Active,
				a.Since.Local().Format("15:04:05"), orDash(strings.Join(via, ",")))
		}
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// watchIndicators subscribes and prints one line per change (one JSON
// object per line with --json) until ctx ends. A notification whose seq
// is not newer than what was printed is skipped: notifications may
// overtake the subscribe reply. When permd goes away (a restart, an
// update) it says so on stderr, reconnects as soon as permd serves
// again and goes on with the new daemon's state, as logcat does across
// logd restarts.
func watchIndicators(ctx context.Context, e *env, lang string) error {
	first := true
	for {
		err := watchOnce(ctx, e, lang)
		if ctx.Err() != nil {
			return nil // interrupted: the normal way to stop watching
		}
		var nd *noDaemonError
		if first && errors.As(err, &nd) {
			return err // never connected: say why, as every command does
		}
		if !errors.Is(err, client.ErrClosed) && !errors.As(err, &nd) && !isConnReset(err) {
			return err
		}
		first = false
		if e.conn != nil {
			e.conn.Close()
			e.conn = nil
		}
		fmt.Fprintf(e.stderr, "permctl: lost permd (%v); reconnecting to %s\n", err, e.socket)
		if err := waitForDaemon(ctx, e); err != nil {
			return nil // interrupted while waiting
		}
		fmt.Fprintf(e.stderr, "permctl: reconnected to permd; watching again (a new daemon starts its seq anew)\n")
	}
}

// waitForDaemon redials with backoff (50 ms doubling to 2 s) until
// permd answers or ctx ends.
func waitForDaemon(ctx context.Context, e *env) error {
	wait := 50 * time.Millisecond
	for {
		if _, err := e.client(ctx); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func watchOnce(ctx context.Context, e *env, lang string) error {
	c, err := e.client(ctx)
	if err != nil {
		return err
	}
	var last uint64
	show := func(raw json.RawMessage) error {
		var s protocol.IndicatorSnapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("decode indicator snapshot: %w", err)
		}
		if s.Seq <= last {
			return nil
		}
		last = s.Seq
		if e.json {
			v, err := decodeNumbers(raw)
			if err != nil {
				return err
			}
			b, err := json.Marshal(withMS(v))
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, string(b))
			return err
		}
		_, err := fmt.Fprintln(e.stdout, indicatorLine(&s, lang))
		return err
	}
	err = c.Follow(ctx, protocol.MethodIndicatorSubscribe, protocol.NoteIndicatorChanged, show)
	if errors.Is(err, client.ErrClosed) {
		return fmt.Errorf("watching indicators: %w", err)
	}
	return err
}

// indicatorLine is one watch line:
// "seq 12 10:04:05 camera=on[com.a(10123)] microphone=off location=off".
func indicatorLine(s *protocol.IndicatorSnapshot, lang string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seq %d %s", s.Seq, s.Time.Local().Format("15:04:05.000"))
	for _, r := range s.Resources {
		name := r.Resource
		if lang != "en" && r.Labels[lang] != "" {
			name = r.Labels[lang]
		}
		if !r.On {
			fmt.Fprintf(&b, " %s=off", name)
			continue
		}
		var apps []string
		for _, a := range r.Apps {
			x := fmt.Sprintf("%s(%d)", a.Package, a.UID)
			if a.Active == 0 {
				x += ":held"
			} else if a.Active > 1 {
				x += fmt.Sprintf("x%d", a.Active)
			}
			apps = append(apps, x)
		}
		fmt.Fprintf(&b, " %s=on[%s]", name, strings.Join(apps, ","))
	}
	return b.String()
}
