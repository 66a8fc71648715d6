package adb

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// IsTCPSerial says whether a serial names a TCP device (host:port, as
// adb connect names them), rather than a USB serial number.
func IsTCPSerial(serial string) bool {
	host, port, err := net.SplitHostPort(serial)
	return err == nil && host != "" && port != ""
}

// Dial reaches the device named by serial: host:port over TCP, anything
// else over USB. Keys are adb's (HostKeys with the process environment).
func Dial(ctx context.Context, serial string) (*Conn, error) {
	keys, err := HostKeys(os.Getenv)
	if err != nil {
		return nil, err
	}
	opts := HostOptions{Keys: keys, SendPublicKey: true}
	if IsTCPSerial(serial) {
		return DialTCP(ctx, serial, opts)
	}
	return DialUSB(ctx, serial, opts)
}

// DeviceInfo is what permctl devices shows for one device.
type DeviceInfo struct {
	Serial    string `json:"serial"`
	Transport string `json:"transport"` // usb or tcp
	State     string `json:"state"`     // device, recovery, unauthorized, offline...
	Model     string `json:"model,omitempty"`
	Product   string `json:"product,omitempty"`
	Error     string `json:"error,omitempty"` // why the state is not device
}

// ListDevices probes every attached USB device with an ADB interface and
// every TCP address given, in parallel, each within timeout. A device
// that does not accept the host's keys is "unauthorized"; one that does
// not finish the handshake is "offline". The USB error (no USB support in
// this build, no permission) is returned beside the list.
func ListDevices(ctx context.Context, tcpAddrs []string, timeout time.Duration) ([]DeviceInfo, error) {
	keys, err := HostKeys(os.Getenv)
	if err != nil {
		return nil, err
	}
	usbSerials, usbErr := USBSerials()
	type target struct{ serial, transport string }
	var targets []target
	for _, s := range usbSerials {
		targets = append(targets, target{s, "usb"})
	}
	for _, a := range tcpAddrs {
		targets = append(targets, target{a, "tcp"})
	}
	out := make([]DeviceInfo, len(targets))
	var wg sync.WaitGroup
	for i, tg := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			opts := HostOptions{Keys: keys}
			var c *Conn
			var err error
			if tg.transport == "tcp" {
				c, err = DialTCP(pctx, tg.serial, opts)
			} else {
				c, err = DialUSB(pctx, tg.serial, opts)
			}
			info := DeviceInfo{Serial: tg.serial, Transport: tg.transport}
			switch {
			case err == nil:
				info.State, info.Model, info.Product = c.State(), c.Prop("ro.product.model"), c.Prop("ro.product.name")
				c.Close()
			case errors.Is(err, ErrUnauthorized):
				info.State, info.Error = "unauthorized", err.Error()
			default:
				info.State, info.Error = "offline", err.Error()
			}
			out[i] = info
		}()
	}
	wg.Wait()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Serial < out[j].Serial })
	if usbErr != nil && !errors.Is(usbErr, ErrNoUSB) {
		usbErr = fmt.Errorf("list usb devices: %w", usbErr)
	}
	return out, usbErr
}

// ShellQuote makes one word for the device's sh.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
