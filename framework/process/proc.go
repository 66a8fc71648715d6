package process

// Key identifies a process across pid reuse.
type Key struct {
	PID   int
	Start uint64 // start time, clock ticks after boot (stat field 22)
}

// Proc is one process as procfs shows it.
type Proc struct {
	PID         int    `json:"pid"`
	PPID        int    `json:"ppid"`
	UID         int    `json:"uid"`
	Start       uint64 `json:"start_ticks"`
	Name        string `json:"name"`
	OomScoreAdj int    `json:"oom_score_adj"`
	HasOom      bool   `json:"-"`
}

// Key returns the process identity.
func (p Proc) Key() Key { return Key{p.PID, p.Start} }

// Band names the importance band of an oom_score_adj value, after
// frameworks/base services/core/java/com/android/server/am/ProcessList.java:
//
//	FOREGROUND_APP_ADJ 0 (and the negative system/persistent values) → foreground
//	VISIBLE_APP_ADJ 100                                               → visible
//	PERCEPTIBLE_APP_ADJ 200, PERCEPTIBLE_MEDIUM 225, PERCEPTIBLE_LOW 250 → perceptible
//	BACKUP 300, HEAVY_WEIGHT 400, SERVICE 500, HOME 600, PREVIOUS 700,
//	SERVICE_B 800                                                     → service
//	CACHED_APP_MIN_ADJ 900 .. CACHED_APP_MAX_ADJ 999                  → cached
//
// ActivityManager writes the process's adj to /proc/<pid>/oom_score_adj
// (through lmkd), so the file is the same number.
func Band(adj int) string {
	switch {
	case adj <= 0:
		return "foreground"
	case adj <= 100:
		return "visible"
	case adj <= 250:
		return "perceptible"
	case adj < 900:
		return "service"
	}
	return "cached"
}

// StateOfBand maps a band to the app states the ledger and grants use:
// foreground, visible, or background (perceptible, service and cached
// processes have no UI the user is looking at).
func StateOfBand(band string) string {
	switch band {
	case "foreground", "visible":
		return band
	}
	return "background"
}
