//go:build usb

package adb

import (
	"testing"

	"github.com/google/gousb"
)

// TestUSBDescriptorConversion: gousb's descriptors, as libusb reports
// them for a phone, become the data SelectADB picks the interface from.
func TestUSBDescriptorConversion(t *testing.T) {
	d := &gousb.DeviceDesc{Bus: 1, Address: 7, Path: []int{4, 2}, Vendor: 0x18d1, Product: 0x4ee2,
		Configs: map[int]gousb.ConfigDesc{1: {Number: 1, Interfaces: []gousb.InterfaceDesc{
			{Number: 0, AltSettings: []gousb.InterfaceSetting{{Number: 0, Class: gousb.ClassPTP, SubClass: 1, Protocol: 1}}},
			{Number: 1, AltSettings: []gousb.InterfaceSetting{{Number: 1, Class: gousb.ClassVendorSpec, SubClass: 0x42, Protocol: 0x01,
				Endpoints: map[gousb.EndpointAddress]gousb.EndpointDesc{
					0x83: {Address: 0x83, Number: 3, Direction: gousb.EndpointDirectionIn, TransferType: gousb.TransferTypeBulk, MaxPacketSize: 512},
					0x02: {Address: 0x02, Number: 2, Direction: gousb.EndpointDirectionOut, TransferType: gousb.TransferTypeBulk, MaxPacketSize: 512},
				}}}},
		}}}}
	sel, err := SelectADB(usbDesc(d))
	if err != nil {
		t.Fatal(err)
	}
	if sel.Config != 1 || sel.Interface != 1 || sel.In.Number != 3 || !sel.In.In || sel.Out.Number != 2 || sel.Out.In || sel.Out.MaxPacketSize != 512 {
		t.Errorf("selection from gousb descriptors: %+v", sel)
	}
	if !USBSupported {
		t.Error("the usb build says it has no USB support")
	}
}
