package adb

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// pixelLike is the descriptor layout of a phone in "file transfer + USB
// debugging" mode: MTP on interface 0, ADB on interface 1.
var pixelLike = USBDeviceDesc{
	Bus: 1, Address: 7, Path: []int{4, 2}, Vendor: 0x18d1, Product: 0x4ee2,
	Configs: []USBConfigDesc{{Number: 1, Interfaces: []USBInterfaceDesc{
		{Number: 0, Class: 0x06, SubClass: 0x01, Protocol: 0x01, Endpoints: []USBEndpointDesc{
			{Number: 1, In: true, Bulk: true, MaxPacketSize: 512},
			{Number: 1, Bulk: true, MaxPacketSize: 512},
			{Number: 2, In: true, MaxPacketSize: 28},
		}},
		{Number: 1, Class: 0xff, SubClass: 0x42, Protocol: 0x01, Endpoints: []USBEndpointDesc{
			{Number: 2, Bulk: true, MaxPacketSize: 512},
			{Number: 3, In: true, Bulk: true, MaxPacketSize: 512},
		}},
	}}},
}

func TestSelectADBOnDescriptors(t *testing.T) {
	sel, err := SelectADB(pixelLike)
	if err != nil {
		t.Fatal(err)
	}
	want := USBSelection{Config: 1, Interface: 1, Alternate: 0,
		In:  USBEndpointDesc{Number: 3, In: true, Bulk: true, MaxPacketSize: 512},
		Out: USBEndpointDesc{Number: 2, Bulk: true, MaxPacketSize: 512}}
	if sel != want {
		t.Errorf("phone with MTP and ADB:\n got %+v\nwant %+v", sel, want)
	}

	// A second configuration with ADB on interface 0 at alternate 1:
	// the lowest configuration wins; within it, the ADB alternate.
	multi := USBDeviceDesc{Configs: []USBConfigDesc{
		{Number: 2, Interfaces: pixelLike.Configs[0].Interfaces},
		{Number: 1, Interfaces: []USBInterfaceDesc{
			{Number: 0, Alternate: 0, Class: 0x08},
			{Number: 0, Alternate: 1, Class: 0xff, SubClass: 0x42, Protocol: 0x01, Endpoints: []USBEndpointDesc{
				{Number: 5, In: true, Bulk: true, MaxPacketSize: 64},
				{Number: 6, Bulk: true, MaxPacketSize: 64},
			}},
		}},
	}}
	if sel, err := SelectADB(multi); err != nil || sel.Config != 1 || sel.Interface != 0 || sel.Alternate != 1 || sel.In.Number != 5 || sel.Out.Number != 6 {
		t.Errorf("two configurations: got %+v, %v", sel, err)
	}

	cases := map[string]struct {
		d    USBDeviceDesc
		want string
	}{
		"keyboard": {USBDeviceDesc{Bus: 2, Address: 3, Vendor: 0x046d, Product: 0xc31c, Configs: []USBConfigDesc{{Number: 1, Interfaces: []USBInterfaceDesc{
			{Class: 0x03, SubClass: 0x01, Protocol: 0x01, Endpoints: []USBEndpointDesc{{Number: 1, In: true, MaxPacketSize: 8}}}}}}},
			"on 046d:c31c at bus 2 address 3"},
		"fastboot is not adb": {USBDeviceDesc{Configs: []USBConfigDesc{{Number: 1, Interfaces: []USBInterfaceDesc{
			{Class: 0xff, SubClass: 0x42, Protocol: 0x03, Endpoints: pixelLike.Configs[0].Interfaces[1].Endpoints}}}}},
			"on 0000:0000"},
		"adb without bulk in": {USBDeviceDesc{Configs: []USBConfigDesc{{Number: 1, Interfaces: []USBInterfaceDesc{
			{Number: 2, Class: 0xff, SubClass: 0x42, Protocol: 0x01, Endpoints: []USBEndpointDesc{
				{Number: 1, Bulk: true, MaxPacketSize: 512}, {Number: 2, In: true, MaxPacketSize: 512}}}}}}},
			"interface 2 alt 0 has the ADB class but not one bulk IN and one bulk OUT"},
		"no configurations": {USBDeviceDesc{}, "no ADB interface"},
	}
	for name, tc := range cases {
		_, err := SelectADB(tc.d)
		if !errors.Is(err, ErrNoADBInterface) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want ErrNoADBInterface mentioning %q, got %v", name, tc.want, err)
		}
	}
	if got := USBPortSerial(pixelLike); got != "usb:1-4.2" {
		t.Errorf("port serial: got %q, want usb:1-4.2", got)
	}
}

// transfers records each bulk OUT transfer, as the endpoint sees them.
type transfers struct{ sizes []int }

func (t *transfers) Write(p []byte) (int, error) {
	t.sizes = append(t.sizes, len(p))
	return len(p), nil
}

func TestUSBCarrierFramingAndZeroLengthPackets(t *testing.T) {
	for _, tc := range []struct {
		payload, maxPacket int
		want               []int
	}{
		{0, 512, []int{24}},
		{100, 512, []int{24, 100}},
		{512, 512, []int{24, 512, 0}},
		{1024, 512, []int{24, 1024, 0}},
		{1025, 512, []int{24, 1025}},
		{64, 64, []int{24, 64, 0}},
	} {
		out := &transfers{}
		u := &usbCarrier{in: bytes.NewReader(nil), out: out, maxPacket: tc.maxPacket, close: func() error { return nil }}
		hdr := make([]byte, HeaderSize)
		if err := u.WritePacket(hdr, make([]byte, tc.payload)); err != nil {
			t.Fatal(err)
		}
		if !equalInts(out.sizes, tc.want) {
			t.Errorf("payload %d, packet size %d: transfers %v, want %v", tc.payload, tc.maxPacket, out.sizes, tc.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
