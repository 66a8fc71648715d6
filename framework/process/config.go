package process

import (
	"fmt"
	"strconv"
	"time"

	"permd/aosp/etc"
	"permd/aosp/packages"
)

// ConfigFile is process tracking's config file in the config dir.
const ConfigFile = "process.json"

// File is process.json as written; absent fields keep DefaultConfig's
// values.
type File struct {
	// Mode: auto (netlink where the kernel allows it, else poll), netlink, poll.
	Mode           string        `json:"mode"`
	PollInterval   *etc.Duration `json:"poll_interval"`
	StateInterval  *etc.Duration `json:"state_interval"`
	ResyncInterval *etc.Duration `json:"resync_interval"`
	Window         *etc.Duration `json:"window"`
	// Logd reads the event log from <root>/dev/socket/logdr.
	Logd *bool `json:"logd"`
	// HostPackages stands in for packages.list when <root>/data/system/
	// packages.list does not exist (a Linux host): uid → packages. Those
	// uids count as apps, so their processes' starts are tracked.
	HostPackages map[string][]string `json:"host_packages"`
}

// Settings is process.json validated.
type Settings struct {
	Config Config
	Logd   bool
	Host   map[int][]string // HostPackages by uid; never nil
}

// Compile validates a decoded process.json; nil means no file (the
// defaults). Errors are *etc.FieldError naming the field as written.
func Compile(f *File) (Settings, error) {
	out := Settings{Config: DefaultConfig(), Logd: true, Host: map[int][]string{}}
	if f == nil {
		return out, nil
	}
	bad := func(field, format string, args ...any) error {
		return &etc.FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	if f.Mode != "" {
		out.Config.Mode = f.Mode
	}
	switch out.Config.Mode {
	case ModeAuto, ModeNetlink, ModePoll:
	default:
		return Settings{}, bad("mode", "%q is not auto, netlink or poll", f.Mode)
	}
	for _, d := range []struct {
		name   string
		v      *etc.Duration
		dst    *time.Duration
		lo, hi time.Duration
	}{
		{"poll_interval", f.PollInterval, &out.Config.PollInterval, 100 * time.Millisecond, time.Hour},
		{"state_interval", f.StateInterval, &out.Config.StateInterval, 100 * time.Millisecond, time.Hour},
		{"resync_interval", f.ResyncInterval, &out.Config.ResyncInterval, time.Second, 24 * time.Hour},
		{"window", f.Window, &out.Config.Window, 50 * time.Millisecond, time.Minute},
	} {
		if d.v == nil {
			continue
		}
		if v := time.Duration(*d.v); v < d.lo || v > d.hi {
			return Settings{}, bad(d.name, "%v is outside %v..%v", v, d.lo, d.hi)
		}
		*d.dst = time.Duration(*d.v)
	}
	if f.Logd != nil {
		out.Logd = *f.Logd
	}
	for k, names := range f.HostPackages {
		uid, err := strconv.Atoi(k)
		if err != nil || uid < 0 {
			return Settings{}, bad("host_packages."+k, "key is not a uid")
		}
		for _, n := range names {
			if _, err := packages.ParseLine(n + " " + k); err != nil {
				return Settings{}, bad("host_packages."+k, "%q is not a package name", n)
			}
		}
		out.Host[uid] = names
	}
	return out, nil
}
