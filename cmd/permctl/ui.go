//go:build !android

// The Privacy Center's host homes. Not in the device build: on a phone
// the pages are shown by a WebView, and net/http would only make the
// binary larger.

package main

import (
	"context"
	"fmt"
	"log/slog"

	"permd/aosp/privacy"
)

func init() {
	register(command{name: "ui", summary: "the Privacy Center in a browser: a loopback server (--db FILE for a pulled copy)", run: runUI})
}

// openPrivacySource is permd itself, or a pulled database read-only.
func openPrivacySource(e *env, db string) (privacy.Source, string, func(), error) {
	if db != "" {
		f, err := privacy.OpenFile(db)
		if err != nil {
			return nil, "", nil, err
		}
		return f, "file " + db, func() { f.Close() }, nil
	}
	d := &privacy.Daemon{Socket: e.socket}
	return d, "permd at " + e.socket, func() { d.Close() }, nil
}

func runUI(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "ui", "[--db FILE] [--listen 127.0.0.1:PORT]")
	db := fs.String("db", "", "show this database file (e.g. pulled with adb pull), read-only, instead of asking permd")
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to serve on (port 0: any free port)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("ui: unexpected argument %q", fs.Arg(0))
	}
	ln, err := privacy.Listen(*listen)
	if err != nil {
		return usagef("ui: %v", err)
	}
	src, _, closeSrc, err := openPrivacySource(e, *db)
	if err != nil {
		ln.Close()
		return err
	}
	defer closeSrc()
	srv, err := privacy.NewServer(src, slog.New(slog.NewTextHandler(e.stderr, nil)))
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(e.stdout, "Privacy Center: %s\n(loopback only; the link holds this run's token; Ctrl-C stops)\n", srv.URL(ln.Addr()))
	return srv.Serve(ctx, ln)
}
