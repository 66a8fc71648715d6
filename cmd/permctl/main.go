// Command permctl queries and changes permd from adb shell or a host:
// status, ledger queries, grants, indicators, rules. Each subcommand is a
// file in this folder that registers itself in the command table.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
