package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"permd/framework/client"
	"permd/framework/protocol"
)

// Exit codes, stable for scripts.
const (
	exitOK         = 0
	exitError      = 1 // anything else
	exitUsage      = 2 // bad command line
	exitNoDaemon   = 3 // permd is not running or the socket is absent
	exitDenied     = 4 // permd refused: the caller's role may not do this
	exitRPCFailure = 5 // permd answered with another error
)

// command is one permctl subcommand. Each file registers its commands
// in init with register(command{...}).
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("permctl: duplicate command " + c.name)
	}
	commands[c.name] = c
}

// env is what every subcommand gets: output streams, the global flags,
// and a way to reach the daemon.
type env struct {
	stdout, stderr io.Writer
	json           bool
	socket         string
	lang           string // en or zh-CN
	wide           bool   // --wide: never cut the free-text column
	columns        int    // terminal width tables fit
	getenv         func(string) string
	conn           *client.Client
}

// client connects on first use and reuses the connection.
func (e *env) client(ctx context.Context) (*client.Client, error) {
	if e.conn != nil {
		return e.conn, nil
	}
	c, err := client.Dial(ctx, e.socket)
	if err != nil {
		return nil, &noDaemonError{socket: e.socket, err: err}
	}
	e.conn = c
	return c, nil
}

// call is the common case: one method, decoded result.
func (e *env) call(ctx context.Context, method string, params, result any) error {
	c, err := e.client(ctx)
	if err != nil {
		return err
	}
	return c.Call(ctx, method, params, result)
}

// printJSON writes v as indented JSON.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table returns a table on stdout for aligned columns (write cells
// ending in tabs, rows ending in newlines, then Flush); cutColumn marks
// the free-text column that is cut to the terminal width unless --wide.
func (e *env) table() *table {
	w := e.columns
	if e.wide {
		w = 0
	}
	return newTable(e.stdout, w, -1)
}

type noDaemonError struct {
	socket string
	err    error
}

func (e *noDaemonError) Error() string {
	switch {
	case errors.Is(e.err, os.ErrNotExist):
		return fmt.Sprintf("permd is not running (no daemon at %s)", e.socket)
	case errors.Is(e.err, syscall.ECONNREFUSED):
		if fi, err := os.Stat(e.socket); err == nil && fi.Mode().Type() != os.ModeSocket {
			return fmt.Sprintf("%s is %s, not a socket (--socket or $PERMD_SOCKET names the wrong path)", e.socket, fileKind(fi.Mode()))
		}
		return fmt.Sprintf("permd is not running (no daemon at %s)", e.socket)
	case errors.Is(e.err, os.ErrPermission):
		return fmt.Sprintf("cannot connect to %s: permission denied (run as shell or root)", e.socket)
	}
	return fmt.Sprintf("cannot connect to %s: %v", e.socket, e.err)
}

// denied says whether the socket exists but this user may not open it:
// that is a permission problem (exit 4), not an absent daemon.
func (e *noDaemonError) denied() bool { return errors.Is(e.err, os.ErrPermission) }

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a socket (" + m.Type().String() + ")"
}

// usageError marks a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// newFlags makes a subcommand flag set that reports errors instead of
// exiting, so tests can run the CLI in-process. -h prints the usage
// line and every flag (as --name) on stdout.
func newFlags(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	summary := ""
	if c, ok := commands[strings.Fields(name)[0]]; ok {
		summary = c.summary
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: permctl %s %s\n", name, usage)
		if summary != "" {
			fmt.Fprintf(w, "\n%s\n", summary)
		}
		printFlags(w, fs)
	}
	return fs
}

// parseFlags parses args and turns flag errors into usage errors: -h
// prints help on stdout; a bad flag is one line on stderr naming it.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, help := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = help
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return errHelp
		}
		return &usageError{unknownFlag(fs, err.Error()) + " (see permctl " + fs.Name() + " -h)"}
	}
	return nil
}

var errHelp = errors.New("help shown")

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	args, code, done := onDevice(ctx, args, stdout, stderr, getenv)
	if done {
		return code
	}
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv, lang: langFromEnv(getenv)}
	defer func() {
		if e.conn != nil {
			e.conn.Close()
		}
	}()
	rest, err := extractGlobals(e, args)
	if err != nil {
		return report(stderr, err)
	}
	e.columns = terminalWidth(stdout, getenv)
	if e.socket == "" {
		e.socket = getenv("PERMD_SOCKET")
	}
	if e.socket == "" {
		e.socket = client.DefaultSocket
	}
	if len(rest) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch rest[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "-version", "--version":
		fmt.Fprintf(stdout, "permctl %s\n", version)
		return exitOK
	}
	if strings.HasPrefix(rest[0], "-") {
		return report(stderr, usagef("unknown flag %s before the command%s (see permctl help)", rest[0], didYouMean(strings.TrimLeft(rest[0], "-"), []string{"json", "socket", "lang", "wide", "version", "help"})))
	}
	cmd, ok := commands[rest[0]]
	if !ok {
		return report(stderr, unknownCommand(rest[0]))
	}
	return report(stderr, cmd.run(ctx, e, rest[1:]))
}

// report prints err as one line and picks the exit code.
func report(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	var ue *usageError
	var nd *noDaemonError
	var re *client.RPCError
	var raw *rawRPCError
	switch {
	case errors.As(err, &raw):
		fmt.Fprintf(stderr, "permctl: %s\n", raw)
		return exitRPCFailure
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "permctl: %s\n", ue.msg)
		return exitUsage
	case errors.As(err, &nd):
		fmt.Fprintf(stderr, "permctl: %s\n", nd)
		if nd.denied() {
			return exitDenied
		}
		return exitNoDaemon
	case errors.As(err, &re) && re.Code == protocol.CodePermissionDenied:
		fmt.Fprintf(stderr, "permctl: permission denied: %s\n", re.Message)
		return exitDenied
	case errors.As(err, &re) && re.Code == protocol.CodeInvalidParams:
		// The daemon rejected what the user typed: a usage error, said
		// in words.
		fmt.Fprintf(stderr, "permctl: %s\n", rejectedText(re.Message))
		return exitUsage
	case errors.As(err, &re):
		fmt.Fprintf(stderr, "permctl: %s\n", re.Message)
		return exitRPCFailure
	case errors.Is(err, client.ErrClosed), isConnReset(err):
		fmt.Fprintf(stderr, "permctl: permd closed the connection: %v\n", err)
		return exitNoDaemon
	}
	fmt.Fprintf(stderr, "permctl: %v\n", err)
	return exitError
}

func isConnReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
