// Package adb speaks the ADB transport protocol itself, so host tools can
// reach devices without an adb server: over TCP (Cuttlefish, adbd in
// network mode) and, when built with -tags usb, over USB through gousb.
// It implements the message framing, CNXN/AUTH with adb's own key files,
// multiplexed streams with flow control, and the shell:, exec: and sync:
// services. It is host-only: device binaries must not link it.
//
// The wire formats follow AOSP packages/modules/adb (protocol.txt, adb.h,
// SYNC.TXT, shell_protocol.h, client/auth.cpp and
// libcrypto_utils/android_pubkey.cpp); see docs/usb.md.
package adb
