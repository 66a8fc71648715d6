package main

import (
	"fmt"
	"strconv"
	"time"
)

// parseSpan reads a duration as every permctl flag writes it: Go's
// forms (30s, 10m, 24h, 1h30m) plus days and weeks (7d, 1w, 2w3d), which
// time.ParseDuration lacks.
func parseSpan(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			break
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			break
		}
		unit := rest[i]
		switch unit {
		case 'w':
			total += time.Duration(n) * 7 * 24 * time.Hour
		case 'd':
			total += time.Duration(n) * 24 * time.Hour
		default:
			// The rest in Go's own syntax: "1d12h".
			d, err := time.ParseDuration(rest)
			if err != nil {
				return 0, fmt.Errorf("%q is not a duration such as 30s, 10m, 24h, 7d or 1w", s)
			}
			return total + d, nil
		}
		rest = rest[i+1:]
	}
	if rest != "" || s == "" {
		return 0, fmt.Errorf("%q is not a duration such as 30s, 10m, 24h, 7d or 1w", s)
	}
	return total, nil
}

// when is a point in time read from a flag, and what the user should be
// told about how it was read.
type when struct {
	t    time.Time
	note string // non-empty when a date was widened to the end of its day
}

// parseWhen reads a time flag: a duration (back from now for --since,
// ahead of now when ahead is set, as for grant --until), a date
// 2026-12-01, or RFC 3339. A bare date is the start of that day in the
// device's time zone, or with endOfDay its end (the next midnight), so
// "--until 2026-12-01" includes all of December 1st.
func parseWhen(s string, now time.Time, endOfDay, ahead bool) (when, error) {
	if d, err := parseSpan(s); err == nil {
		if d < 0 {
			return when{}, fmt.Errorf("%q is negative", s)
		}
		if ahead {
			return when{t: now.Add(d)}, nil
		}
		return when{t: now.Add(-d)}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		if !endOfDay {
			return when{t: t}, nil
		}
		end := t.AddDate(0, 0, 1)
		return when{t: end, note: fmt.Sprintf("%s means until the end of that day: %s (%s, the device's time zone)",
			s, end.Format("2006-01-02 15:04:05"), end.Format("MST -07:00"))}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return when{t: t}, nil
	}
	return when{}, fmt.Errorf("%q is not a time: want a duration (30s, 10m, 24h, 7d, 1w), a date (2026-12-01) or RFC 3339 (2026-12-01T09:00:00+08:00)", s)
}
