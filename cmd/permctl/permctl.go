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
	"sort"
	"syscall"
	"text/tabwriter"

	"permd/framework/client"
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

// command is one permctl subcommand.
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

// table returns a tab writer for aligned columns; call Flush.
func (e *env) table() *tabwriter.Writer {
	return tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
}

type noDaemonError struct {
	socket string
	err    error
}

func (e *noDaemonError) Error() string {
	switch {
	case errors.Is(e.err, os.ErrNotExist), errors.Is(e.err, syscall.ECONNREFUSED):
		return fmt.Sprintf("permd is not running (no daemon at %s)", e.socket)
	case errors.Is(e.err, os.ErrPermission):
		return fmt.Sprintf("cannot connect to %s: permission denied (run as shell or root)", e.socket)
	}
	return fmt.Sprintf("cannot connect to %s: %v", e.socket, e.err)
}

// usageError marks a bad command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// newFlags makes a subcommand flag set that reports errors instead of
// exiting, so tests can run the CLI in-process.
func newFlags(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: permctl %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return &usageError{err.Error()}
	}
	return nil
}

var errHelp = errors.New("help shown")

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	args, code, done := onDevice(ctx, args, stdout, stderr, getenv)
	if done {
		return code
	}
	e := &env{stdout: stdout, stderr: stderr}
	defer func() {
		if e.conn != nil {
			e.conn.Close()
		}
	}()
	fs := flag.NewFlagSet("permctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&e.socket, "socket", "", "permd socket (default $PERMD_SOCKET, else "+client.DefaultSocket+")")
	fs.BoolVar(&e.json, "json", false, "print JSON instead of tables")
	fs.Usage = func() { usage(stderr) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if e.socket == "" {
		e.socket = getenv("PERMD_SOCKET")
	}
	if e.socket == "" {
		e.socket = client.DefaultSocket
	}
	rest := fs.Args()
	if len(rest) == 0 {
		usage(stderr)
		return exitUsage
	}
	cmd, ok := commands[rest[0]]
	if !ok {
		fmt.Fprintf(stderr, "permctl: unknown command %q (see permctl -h)\n", rest[0])
		return exitUsage
	}
	err := cmd.run(ctx, e, rest[1:])
	return report(stderr, err)
}

// report prints err as one line and picks the exit code.
func report(stderr io.Writer, err error) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	var ue *usageError
	var nd *noDaemonError
	var re *client.RPCError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "permctl: %s\n", ue.msg)
		return exitUsage
	case errors.As(err, &nd):
		fmt.Fprintf(stderr, "permctl: %s\n", nd)
		return exitNoDaemon
	case errors.As(err, &re) && re.Code == -32000:
		fmt.Fprintf(stderr, "permctl: permission denied: %s\n", re.Message)
		return exitDenied
	case errors.As(err, &re):
		fmt.Fprintf(stderr, "permctl: %s\n", re)
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

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: permctl [--socket PATH] [--json] COMMAND [ARGS]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s\t%s\n", n, commands[n].summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nexit codes: 0 ok, 1 error, 2 usage, 3 permd not running, 4 permission denied, 5 other permd error")
}
