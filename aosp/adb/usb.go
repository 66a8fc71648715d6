//go:build usb

package adb

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/gousb"
)

// USBSupported says whether this build can reach devices over USB.
const USBSupported = true

// usbDesc converts gousb's descriptor into the plain data SelectADB reads.
func usbDesc(d *gousb.DeviceDesc) USBDeviceDesc {
	out := USBDeviceDesc{Bus: d.Bus, Address: d.Address, Path: d.Path, Vendor: uint16(d.Vendor), Product: uint16(d.Product)}
	for _, c := range d.Configs {
		cd := USBConfigDesc{Number: c.Number}
		for _, it := range c.Interfaces {
			for _, alt := range it.AltSettings {
				id := USBInterfaceDesc{Number: alt.Number, Alternate: alt.Alternate, Class: uint8(alt.Class), SubClass: uint8(alt.SubClass), Protocol: uint8(alt.Protocol)}
				for _, e := range alt.Endpoints {
					id.Endpoints = append(id.Endpoints, USBEndpointDesc{
						Number: e.Number, In: e.Direction == gousb.EndpointDirectionIn,
						Bulk: e.TransferType == gousb.TransferTypeBulk, MaxPacketSize: e.MaxPacketSize,
					})
				}
				cd.Interfaces = append(cd.Interfaces, id)
			}
		}
		out.Configs = append(out.Configs, cd)
	}
	return out
}

// usbOpen opens every device with an ADB interface; the caller closes
// the context and the devices.
func usbOpen() (*gousb.Context, []*gousb.Device, error) {
	uc := gousb.NewContext()
	devs, err := uc.OpenDevices(func(d *gousb.DeviceDesc) bool {
		_, err := SelectADB(usbDesc(d))
		return err == nil
	})
	// OpenDevices reports devices it could not open (permissions: see
	// the udev rule in docs/usb.md) but still returns the others.
	if err != nil && len(devs) == 0 {
		uc.Close()
		return nil, nil, fmt.Errorf("usb: %w (on a non-root host, install the udev rule from docs/usb.md)", err)
	}
	return uc, devs, nil
}

func usbSerial(d *gousb.Device) string {
	s, err := d.SerialNumber()
	if err != nil || s == "" {
		return USBPortSerial(usbDesc(d.Desc))
	}
	return s
}

// USBSerials lists the serial numbers of attached devices with an ADB
// interface.
func USBSerials() ([]string, error) {
	uc, devs, err := usbOpen()
	if err != nil {
		return nil, err
	}
	defer uc.Close()
	var out []string
	for _, d := range devs {
		out = append(out, usbSerial(d))
		d.Close()
	}
	return out, nil
}

// DialUSB claims the ADB interface of the device with this serial and
// runs the handshake. Closing the connection releases the interface and
// the device.
func DialUSB(ctx context.Context, serial string, opts HostOptions) (*Conn, error) {
	uc, devs, err := usbOpen()
	if err != nil {
		return nil, err
	}
	var dev *gousb.Device
	for _, d := range devs {
		if dev == nil && usbSerial(d) == serial {
			dev = d
			continue
		}
		d.Close()
	}
	if dev == nil {
		uc.Close()
		return nil, fmt.Errorf("usb: no device with serial %q and an ADB interface", serial)
	}
	car, err := claim(uc, dev)
	if err != nil {
		dev.Close()
		uc.Close()
		return nil, fmt.Errorf("usb %s: %w", serial, err)
	}
	c, err := Connect(ctx, car, opts)
	if err != nil {
		return nil, fmt.Errorf("usb %s: %w", serial, err)
	}
	return c, nil
}

// claim selects, configures and claims the ADB interface and opens its
// endpoints. The returned carrier's Close releases everything in reverse
// order, once.
func claim(uc *gousb.Context, dev *gousb.Device) (*usbCarrier, error) {
	sel, err := SelectADB(usbDesc(dev.Desc))
	if err != nil {
		return nil, err
	}
	// A kernel driver bound to the interface (rare for ADB) is detached
	// and reattached on release.
	if err := dev.SetAutoDetach(true); err != nil {
		return nil, fmt.Errorf("auto-detach: %w", err)
	}
	cfg, err := dev.Config(sel.Config)
	if err != nil {
		return nil, fmt.Errorf("set config %d: %w", sel.Config, err)
	}
	intf, err := cfg.Interface(sel.Interface, sel.Alternate)
	if err != nil {
		cfg.Close()
		return nil, fmt.Errorf("claim interface %d: %w", sel.Interface, err)
	}
	in, err := intf.InEndpoint(sel.In.Number)
	if err == nil {
		var out *gousb.OutEndpoint
		out, err = intf.OutEndpoint(sel.Out.Number)
		if err == nil {
			var once sync.Once
			var cerr error
			return &usbCarrier{in: in, out: out, maxPacket: sel.Out.MaxPacketSize, close: func() error {
				once.Do(func() {
					intf.Close()
					cerr = errors.Join(cfg.Close(), dev.Close(), uc.Close())
				})
				return cerr
			}}, nil
		}
	}
	intf.Close()
	cfg.Close()
	return nil, fmt.Errorf("open endpoints: %w", err)
}
