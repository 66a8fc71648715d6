package adb

import (
	"errors"
	"fmt"
	"io"
	"sort"
)

// The USB interface adbd exposes (adb.h: ADB_CLASS, ADB_SUBCLASS,
// ADB_PROTOCOL).
const (
	USBClass    = 0xff
	USBSubClass = 0x42
	USBProtocol = 0x01
)

// USBDeviceDesc is the part of a USB device descriptor that selection
// needs, as plain data: the usb build fills it from gousb, tests write it
// by hand.
type USBDeviceDesc struct {
	Bus, Address    int
	Path            []int // ports from the root hub, e.g. [1 4 2]
	Vendor, Product uint16
	Configs         []USBConfigDesc
}

// USBConfigDesc is one configuration.
type USBConfigDesc struct {
	Number     int
	Interfaces []USBInterfaceDesc
}

// USBInterfaceDesc is one alternate setting of one interface.
type USBInterfaceDesc struct {
	Number, Alternate         int
	Class, SubClass, Protocol uint8
	Endpoints                 []USBEndpointDesc
}

// USBEndpointDesc is one endpoint.
type USBEndpointDesc struct {
	Number        int
	In            bool
	Bulk          bool
	MaxPacketSize int
}

// USBSelection is where ADB lives on a device: the configuration,
// interface and alternate setting to claim and its two bulk endpoints.
type USBSelection struct {
	Config, Interface, Alternate int
	In, Out                      USBEndpointDesc
}

// ErrNoUSB is returned by the USB functions of a build without -tags usb.
var ErrNoUSB = errors.New("built without USB support: rebuild with -tags usb (needs libusb-1.0, see docs/usb.md)")

// ErrNoADBInterface is wrapped when a device has no usable ADB interface.
var ErrNoADBInterface = errors.New("no ADB interface (class 0xff, subclass 0x42, protocol 0x01)")

// SelectADB finds the ADB interface of a device: the lowest-numbered
// configuration, interface and alternate setting with the ADB class
// triple and one bulk IN and one bulk OUT endpoint. An ADB interface
// without both endpoints is an error that names it, since it means a
// broken or unexpected gadget rather than another kind of device.
func SelectADB(d USBDeviceDesc) (USBSelection, error) {
	configs := append([]USBConfigDesc(nil), d.Configs...)
	sort.Slice(configs, func(i, j int) bool { return configs[i].Number < configs[j].Number })
	var broken error
	for _, c := range configs {
		intfs := append([]USBInterfaceDesc(nil), c.Interfaces...)
		sort.Slice(intfs, func(i, j int) bool {
			if intfs[i].Number != intfs[j].Number {
				return intfs[i].Number < intfs[j].Number
			}
			return intfs[i].Alternate < intfs[j].Alternate
		})
		for _, it := range intfs {
			if it.Class != USBClass || it.SubClass != USBSubClass || it.Protocol != USBProtocol {
				continue
			}
			sel := USBSelection{Config: c.Number, Interface: it.Number, Alternate: it.Alternate}
			var haveIn, haveOut bool
			for _, e := range it.Endpoints {
				if !e.Bulk {
					continue
				}
				if e.In && !haveIn {
					sel.In, haveIn = e, true
				}
				if !e.In && !haveOut {
					sel.Out, haveOut = e, true
				}
			}
			switch {
			case haveIn && haveOut && sel.In.MaxPacketSize > 0 && sel.Out.MaxPacketSize > 0:
				return sel, nil
			case broken == nil:
				broken = fmt.Errorf("%w: config %d interface %d alt %d has the ADB class but not one bulk IN and one bulk OUT endpoint with a packet size", ErrNoADBInterface, c.Number, it.Number, it.Alternate)
			}
		}
	}
	if broken != nil {
		return USBSelection{}, broken
	}
	return USBSelection{}, fmt.Errorf("%w on %04x:%04x at bus %d address %d", ErrNoADBInterface, d.Vendor, d.Product, d.Bus, d.Address)
}

// USBPortSerial names a device that reports no serial number by its
// port, as adb does ("usb:1-4.2").
func USBPortSerial(d USBDeviceDesc) string {
	s := fmt.Sprintf("usb:%d-", d.Bus)
	for i, p := range d.Path {
		if i > 0 {
			s += "."
		}
		s += fmt.Sprint(p)
	}
	return s
}

// needZLP says whether a bulk OUT payload must be followed by a
// zero-length packet: when it fills its last packet exactly, the device
// cannot otherwise tell that the transfer ended.
func needZLP(n, maxPacket int) bool {
	return n > 0 && maxPacket > 0 && n%maxPacket == 0
}

// bulkOut is a bulk OUT endpoint: each Write is one transfer.
type bulkOut interface {
	Write(p []byte) (int, error)
}

// usbCarrier carries messages over a claimed ADB interface: the header
// and the payload as separate transfers, as adbd's USB function reads
// them, with a zero-length packet after a payload that ends on a packet
// boundary.
type usbCarrier struct {
	in        io.Reader
	out       bulkOut
	maxPacket int
	close     func() error
}

func (u *usbCarrier) Read(p []byte) (int, error) { return u.in.Read(p) }
func (u *usbCarrier) Close() error               { return u.close() }

func (u *usbCarrier) WritePacket(hdr, payload []byte) error {
	if _, err := u.out.Write(hdr); err != nil {
		return fmt.Errorf("usb write header: %w", err)
	}
	if len(payload) == 0 {
		return nil
	}
	if _, err := u.out.Write(payload); err != nil {
		return fmt.Errorf("usb write payload: %w", err)
	}
	if needZLP(len(payload), u.maxPacket) {
		if _, err := u.out.Write(nil); err != nil {
			return fmt.Errorf("usb write zero-length packet: %w", err)
		}
	}
	return nil
}
