package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

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
	logTo                            string
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
	fs.StringVar(&c.logTo, "log", "auto", "where log lines go: logd (<root>/dev/socket/logdw, read with adb logcat -s permd), stderr, or auto (logd on Android when its socket exists, else stderr)")
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
	h, err := logHandler(c, os.Stderr)
	if err != nil {
		return err
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
// it, and a copy of the demo's default config that the user may edit to
// watch it reload (edits survive restarts; see refreshDemoConfig).
func prepareDemo(c *config, stdout io.Writer) error {
	dir, err := filepath.Abs(c.demo)
	if err != nil {
		return err
	}
	c.root = "/"
	c.dataDir = filepath.Join(dir, "data")
	c.configDir = filepath.Join(dir, "config")
	c.socket = filepath.Join(dir, "permd.sock")
	if err := refreshDemoConfig(dir, os.Getuid(), stdout); err != nil {
		return err
	}
	role := "root"
	if os.Getuid() != 0 {
		role = "root (given to your uid by the demo's permd.json)"
	}
	fmt.Fprintf(stdout, `permd demo
  socket: %[1]s
  config: %[2]s (edit it: permd reloads on save; SIGHUP works too)
  data:   %[3]s
identity (process.json host_packages): your uid %[4]d is the app
org.example.host.user, so your real processes count as its process; two
more apps, com.example.maps (uid 10123) and com.example.chat (uid 10124),
have no process here (the process table reports them not running).
your role: %[5]s.
try, in another terminal at %[6]s:
  export PERMD_SOCKET=%[1]s
%[7]s`, c.socket, c.configDir, c.dataDir, os.Getuid(), role, repoDir(dir), indent(demoExamples, "  "))
	return nil
}

// repoDir is where the examples' ./bin/permctl is: the folder above this
// permd's bin/ (make build puts both there), else the demo dir's parent.
func repoDir(demoDir string) string {
	if exe, err := os.Executable(); err == nil {
		bin := filepath.Dir(exe)
		if _, err := os.Stat(filepath.Join(bin, "permctl")); err == nil && filepath.Base(bin) == "bin" {
			return filepath.Dir(bin)
		}
	}
	return filepath.Dir(demoDir)
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(prefix + line)
		}
	}
	return b.String()
}
