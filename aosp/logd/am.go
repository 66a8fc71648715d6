package logd

import (
	"fmt"
	"time"
)

// Event is one decoded events-buffer entry.
type Event struct {
	Time  time.Time
	PID   int32  // writer (system_server for AM events)
	UID   uint32 // writer's uid
	Tag   int32
	Name  string // from the tag table; "" when unknown
	Value any
}

// ProcStart is am_proc_start: ActivityManager started an app process.
type ProcStart struct {
	User        int
	PID         int
	UID         int
	Process     string
	HostingType string // activity, broadcast, service, content provider, ...
	Component   string // "pkg/.Cls"; may be empty
}

// ProcBound is am_proc_bound: the new process attached to AM.
type ProcBound struct {
	User    int
	PID     int
	Process string
}

// ProcDied is am_proc_died.
type ProcDied struct {
	User      int
	PID       int
	Process   string
	OomAdj    int // -1 when the release did not log it
	ProcState int // -1 when the release did not log it
}

// Kill is am_kill: AM killed a process.
type Kill struct {
	User    int
	PID     int
	Process string
	OomAdj  int
	Reason  string
}

// Resumed is wm_set_resumed_activity (am_set_resumed_activity before
// Android 10): this activity is now in front.
type Resumed struct {
	User      int
	Component string
	Reason    string
}

// UIDState is am_uid_running/stopped/active/idle.
type UIDState struct {
	UID   int
	State string // running, stopped, active, idle
}

// Decode turns an event into one of ProcStart, ProcBound, ProcDied, Kill,
// Resumed or UIDState. It returns nil, nil for events this package does
// not interpret, and an error for a known event whose value has the
// wrong shape.
func Decode(ev Event) (any, error) {
	switch ev.Name {
	case "am_proc_start":
		l, err := fields(ev, 5, "iiiss")
		if err != nil {
			return nil, err
		}
		ps := ProcStart{User: asInt(l[0]), PID: asInt(l[1]), UID: asInt(l[2]), Process: l[3].(string), HostingType: l[4].(string)}
		if len(l) > 5 {
			ps.Component, _ = l[5].(string)
		}
		return ps, nil
	case "am_proc_bound":
		l, err := fields(ev, 3, "iis")
		if err != nil {
			return nil, err
		}
		return ProcBound{User: asInt(l[0]), PID: asInt(l[1]), Process: l[2].(string)}, nil
	case "am_proc_died":
		l, err := fields(ev, 3, "iisii")
		if err != nil {
			return nil, err
		}
		d := ProcDied{User: asInt(l[0]), PID: asInt(l[1]), Process: l[2].(string), OomAdj: -1, ProcState: -1}
		if len(l) > 3 {
			d.OomAdj = asInt(l[3])
		}
		if len(l) > 4 {
			d.ProcState = asInt(l[4])
		}
		return d, nil
	case "am_kill":
		l, err := fields(ev, 5, "iisis")
		if err != nil {
			return nil, err
		}
		return Kill{User: asInt(l[0]), PID: asInt(l[1]), Process: l[2].(string), OomAdj: asInt(l[3]), Reason: l[4].(string)}, nil
	case "wm_set_resumed_activity", "am_set_resumed_activity":
		l, err := fields(ev, 2, "iss")
		if err != nil {
			return nil, err
		}
		r := Resumed{User: asInt(l[0]), Component: l[1].(string)}
		if len(l) > 2 {
			r.Reason, _ = l[2].(string)
		}
		return r, nil
	case "am_uid_running", "am_uid_stopped", "am_uid_active", "am_uid_idle":
		v := ev.Value
		if l, ok := v.([]any); ok && len(l) > 0 {
			v = l[0]
		}
		if !isInt(v) {
			return nil, fmt.Errorf("%s: value %T is not an integer uid", ev.Name, ev.Value)
		}
		return UIDState{UID: asInt(v), State: ev.Name[len("am_uid_"):]}, nil
	}
	return nil, nil
}

// fields checks that the value is a list of at least min items whose
// types follow shape ('i' integer, 's' string) as far as shape goes.
func fields(ev Event, min int, shape string) ([]any, error) {
	l, ok := ev.Value.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: value is %T, want a list", ev.Name, ev.Value)
	}
	if len(l) < min {
		return nil, fmt.Errorf("%s: %d values, want at least %d", ev.Name, len(l), min)
	}
	for i := 0; i < len(l) && i < len(shape); i++ {
		switch shape[i] {
		case 'i':
			if !isInt(l[i]) {
				return nil, fmt.Errorf("%s: value %d is %T, want an integer", ev.Name, i+1, l[i])
			}
		case 's':
			if _, ok := l[i].(string); !ok {
				return nil, fmt.Errorf("%s: value %d is %T, want a string", ev.Name, i+1, l[i])
			}
		}
	}
	return l, nil
}

func isInt(v any) bool {
	switch v.(type) {
	case int32, int64:
		return true
	}
	return false
}

func asInt(v any) int {
	switch x := v.(type) {
	case int32:
		return int(x)
	case int64:
		return int(x)
	}
	return 0
}
