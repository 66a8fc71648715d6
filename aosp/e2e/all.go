package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"

	"permd/aosp/adb"
)

// DeviceResult is one device's run under RunAll.
type DeviceResult struct {
	Serial  string
	Results []Result
	Err     error // the run could not start or finish
}

// RunAll runs the scenarios on several devices at once, one transport
// each (made by newT), and writes one block per device to w, in the
// order of serials, once all are done.
func RunAll(ctx context.Context, serials []string, newT func(serial string) Transport, w io.Writer) []DeviceResult {
	out := make([]DeviceResult, len(serials))
	logs := make([]bytes.Buffer, len(serials))
	var wg sync.WaitGroup
	for i, s := range serials {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := Run(ctx, newT(s), Scenarios, &logs[i])
			out[i] = DeviceResult{Serial: s, Results: res, Err: err}
		}()
	}
	wg.Wait()
	for i := range serials {
		fmt.Fprintf(w, "=== device %s\n", serials[i])
		w.Write(logs[i].Bytes())
		if out[i].Err != nil {
			fmt.Fprintf(w, "could not run: %v\n", out[i].Err)
		}
	}
	return out
}

// Serials lists the devices a transport can reach: adb devices for
// "adb", the attached USB devices for "usb". TCP has no discovery: its
// serials are given.
func Serials(ctx context.Context, transport, adbBin string) ([]string, error) {
	switch transport {
	case "usb":
		return adb.USBSerials()
	case "adb":
		if adbBin == "" {
			adbBin = "adb"
		}
		b, err := exec.CommandContext(ctx, adbBin, "devices").Output()
		if err != nil {
			return nil, fmt.Errorf("adb devices: %w", err)
		}
		return parseADBDevices(string(b)), nil
	}
	return nil, fmt.Errorf("transport %s cannot list devices; give them with --serial A,B", transport)
}

// parseADBDevices takes the serials in state "device" from adb devices.
func parseADBDevices(out string) []string {
	var serials []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[1] == "device" {
			serials = append(serials, f[0])
		}
	}
	return serials
}
