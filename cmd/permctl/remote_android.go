//go:build android

package main

import (
	"context"
	"io"
)

// On a device permctl talks to its own daemon only: the ADB transport
// (package adb) is host-only and not linked here.

func onDevice(_ context.Context, args []string, _, _ io.Writer, _ func(string) string) ([]string, int, bool) {
	return args, 0, false
}

func runLedgerPull(context.Context, *env, []string) error {
	return usagef("ledger pull runs on a host: permctl ledger pull --device SERIAL FILE")
}
