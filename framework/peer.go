package framework

import (
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// peerActor reads the peer's kernel-verified credentials: uid, gid and pid
// from SO_PEERCRED and, where an LSM provides it, the SELinux context
// from SO_PEERSEC. These were fixed when the peer called connect(), so a
// client cannot change them afterwards.
func peerActor(uc *net.UnixConn, roles []RoleRule, pkgs PackageResolver) (Actor, error) {
	raw, err := uc.SyscallConn()
	if err != nil {
		return Actor{}, err
	}
	var cred *unix.Ucred
	var secctx string
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if credErr != nil {
			return
		}
		// ENOPROTOOPT (no LSM) or an empty label just means "no context".
		if s, err := unix.GetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_PEERSEC); err == nil {
			secctx = strings.TrimRight(s, "\x00")
		}
	})
	if err == nil {
		err = credErr
	}
	if err != nil {
		return Actor{}, fmt.Errorf("SO_PEERCRED: %w", err)
	}
	a := Actor{UID: int(cred.Uid), GID: int(cred.Gid), PID: int(cred.Pid), Context: secctx}
	a.Role = resolveRoleWith(roles, a, pkgs)
	return a, nil
}

// RoleRule maps an identity to a role. A rule matches when every field it
// sets matches; the first matching rule wins. SELinux matching is on the
// context's type (the third field of user:role:type:level), because the
// level carries per-user categories that differ between users.
//
// Package names an app by the package that runs under the peer's uid in
// packages.list (written by the package manager, so not the peer's
// word). It is how a platform-signed system app such as the integration
// bridge gets a role: its uid is assigned at install and differs between
// builds, and its SELinux type (platform_app) is shared with SystemUI.
// A package rule must also name a context type, because a package name
// alone can be taken by any app installed under it when the intended
// app is absent; the type proves the platform signature.
type RoleRule struct {
	UID         *int   `json:"uid,omitempty"`
	ContextType string `json:"context_type,omitempty"`
	Package     string `json:"package,omitempty"`
	Role        Role   `json:"role"`
}

func (r RoleRule) matches(a Actor, pkgs PackageResolver) bool {
	if r.UID != nil && *r.UID != a.UID {
		return false
	}
	if r.ContextType != "" && contextType(a.Context) != r.ContextType {
		return false
	}
	if r.Package != "" && (pkgs == nil || !slices.Contains(pkgs.Packages(a.UID), r.Package)) {
		return false
	}
	return true
}

// contextType returns the type field of an SELinux context
// ("u:r:system_server:s0" → "system_server").
func contextType(ctx string) string {
	parts := strings.SplitN(ctx, ":", 4)
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

// resolveRole applies the rules. Whatever no rule names is an app: the
// least privileged role is the default, never the most.
func resolveRole(rules []RoleRule, a Actor) Role { return resolveRoleWith(rules, a, nil) }

// resolveRoleWith is resolveRole with the uid → packages mapping that
// package rules need; with pkgs nil no package rule matches.
func resolveRoleWith(rules []RoleRule, a Actor, pkgs PackageResolver) Role {
	for _, r := range rules {
		if r.matches(a, pkgs) {
			return r.Role
		}
	}
	return RoleApp
}

// denialLog rate-limits denial logs per (uid, method): a misbehaving app
// hammering a method must not flood logd.
type denialLog struct {
	mu   sync.Mutex
	last map[denialKey]time.Time
	supp map[denialKey]int
}

type denialKey struct {
	uid    int
	method string
}

func (d *denialLog) log(l *slog.Logger, a Actor, method string) {
	d.mu.Lock()
	if d.last == nil {
		d.last, d.supp = map[denialKey]time.Time{}, map[denialKey]int{}
	}
	k := denialKey{a.UID, method}
	now := time.Now()
	if t, ok := d.last[k]; ok && now.Sub(t) < 10*time.Second {
		d.supp[k]++
		d.mu.Unlock()
		return
	}
	suppressed := d.supp[k]
	d.last[k], d.supp[k] = now, 0
	if len(d.last) > 4096 { // bound memory under a uid-spraying attack
		clear(d.last)
		clear(d.supp)
	}
	d.mu.Unlock()
	l.Warn("permission denied", "uid", a.UID, "pid", a.PID, "role", a.Role, "context", a.Context, "method", method, "suppressed", suppressed)
}
