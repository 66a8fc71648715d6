//go:build !usb

package adb

import (
	"context"
)

// USBSupported says whether this build can reach devices over USB.
const USBSupported = false

// USBSerials lists attached ADB devices; this build has no USB.
func USBSerials() ([]string, error) { return nil, ErrNoUSB }

// DialUSB connects to a device over USB; this build has no USB.
func DialUSB(ctx context.Context, serial string, opts HostOptions) (*Conn, error) {
	return nil, ErrNoUSB
}
