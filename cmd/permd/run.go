package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"permd/aosp/etc"
	"permd/framework"
	"permd/ledger/store"
)

// config is what the flags say.
type config struct {
	root, dataDir, configDir, socket string
	demo                             string
	timeZone                         string
	logLevel                         slog.Level
	logJSON                          bool
	showVersion                      bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("permd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.root, "root", "/", "prefix for every OS path read (/proc, /data/system/packages.list, ...): / on a device, a fixture tree on a host")
	fs.StringVar(&c.dataDir, "data-dir", "/data/misc/permd", "directory of the SQLite database")
	fs.StringVar(&c.configDir, "config-dir", "/system_ext/etc/permd", "config directory (permd.json, rules.json, ...); \"embedded\" uses the built-in default")
	fs.StringVar(&c.socket, "socket", "/dev/socket/permd", "socket path to bind when init did not pass one in "+framework.AndroidSocketEnv)
	fs.StringVar(&c.demo, "demo", "", "host demo: run under DIR (socket, data, an editable copy of the default config) against this machine's real /proc")
	fs.StringVar(&c.timeZone, "time-zone", "", "the device's IANA time zone at start (init passes ${persist.sys.timezone}); the framework pushes later changes with time.zone")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn, error")
	fs.BoolVar(&c.logJSON, "log-json", false, "log as JSON lines")
	fs.BoolVar(&c.showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

func run(ctx context.Context, c config, stdout io.Writer) error {
	if c.showVersion {
		fmt.Fprintf(stdout, "permd %s (sqlite: %s, %s, %s/%s)\n", version, store.Driver, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: c.logLevel})
	if c.logJSON {
		h = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: c.logLevel})
	}
	log := slog.New(h)
	slog.SetDefault(log)

	if c.demo != "" {
		if err := prepareDemo(&c, stdout); err != nil {
			return err
		}
	}
	opt := framework.Options{
		Root:      c.root,
		DataDir:   c.dataDir,
		ConfigDir: c.configDir,
		Version:   version,
		Logger:    log,
		TimeZone:  c.timeZone,
	}
	if c.configDir == "embedded" {
		opt.ConfigDir = ""
	}
	ln, err := framework.InheritedListener()
	if err != nil {
		return err
	}
	if ln != nil {
		opt.Listener = ln
	} else {
		opt.SocketPath = c.socket
	}
	svc, err := framework.New(opt)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}

// prepareDemo lays out DIR for a host run: the socket and database under
// it, and a copy of the embedded default config that the user may edit to
// watch it reload. An existing config copy is kept, so edits survive.
func prepareDemo(c *config, stdout io.Writer) error {
	dir, err := filepath.Abs(c.demo)
	if err != nil {
		return err
	}
	c.root = "/"
	c.dataDir = filepath.Join(dir, "data")
	c.configDir = filepath.Join(dir, "config")
	c.socket = filepath.Join(dir, "permd.sock")
	if _, err := os.Stat(filepath.Join(c.configDir, framework.MainFile)); errors.Is(err, os.ErrNotExist) {
		if err := os.CopyFS(c.configDir, etc.Default()); err != nil {
			return fmt.Errorf("demo: write default config: %w", err)
		}
		if err := writeDemoPackages(c.configDir); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		// CopyFS keeps the embedded files' read-only mode; make them
		// editable, since editing them is the point.
		filepath.WalkDir(c.configDir, func(p string, d fs.DirEntry, err error) error {
			if err == nil {
				mode := os.FileMode(0o644)
				if d.IsDir() {
					mode = 0o755
				}
				os.Chmod(p, mode)
			}
			return nil
		})
	}
	fmt.Fprintf(stdout, `permd demo
  socket: %[1]s
  config: %[2]s (edit it: permd reloads on save; SIGHUP works too)
  data:   %[3]s
identity (process.json host_packages): your uid %[4]d is the app
org.example.host.user, so your real processes count as its process; two
more apps, com.example.maps (uid 10123) and com.example.chat (uid 10124),
have no process here (the process table reports them not running).
try, in another terminal:
  export PERMD_SOCKET=%[1]s
  ./bin/permctl status
  ./bin/permctl catalogue --lang zh-CN
  ./bin/permctl grant org.example.host.user location --while-in-use --precision 3km --max 10/hour
  ./bin/permctl call perm.check '{"uid":%[4]d,"package":"org.example.host.user","category":"location"}'
  ./bin/permctl call loc.fudge '{"uid":%[4]d,"package":"org.example.host.user","lat":39.9087,"lon":116.3975}'
  ./bin/permctl indicators --watch      # and in a third terminal:
  ./bin/permctl call op.start '{"resource":"camera","uid":10124,"package":"com.example.chat"}'
  ./bin/permctl ledger --since 1h
  ./bin/permctl ledger verify
  ./bin/permctl procs --apps
  ./bin/permctl rules --lang en
`, c.socket, c.configDir, c.dataDir, os.Getuid())
	return nil
}

// writeDemoPackages gives the demo an identity source: on a host there is
// no packages.list, so process.json's host map names two demo apps and
// the user running the demo, whose real processes then show as an app.
func writeDemoPackages(configDir string) error {
	p := filepath.Join(configDir, "process.json")
	cfg := map[string]any{}
	if b, err := os.ReadFile(p); err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	cfg["host_packages"] = map[string][]string{
		strconv.Itoa(os.Getuid()): {"org.example.host.user"},
		"10123":                   {"com.example.maps"},
		"10124":                   {"com.example.chat"},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(b, '\n'), 0o644)
}
