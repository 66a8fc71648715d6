//go:build android

package main

import (
	"context"
	"flag"
)

// On a device permctl talks to its own daemon only: the ADB transport
// (package adb) is host-only and not linked here.

func addDeviceFlag(*flag.FlagSet) *string { return new(string) }

func runOnDevice(context.Context, *env, string, []string, func(string) string) (int, bool) {
	return 0, false
}

func runLedgerPull(context.Context, *env, []string) error {
	return usagef("ledger pull runs on a host: permctl ledger pull --device SERIAL FILE")
}
