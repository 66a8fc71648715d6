package indicator

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"permd/aosp/etc"
)

// Categories are the Art. 30 resource codes a use may name, in the order
// the catalogue lists them.
var Categories = []string{"calendar", "call_log", "camera", "contacts", "location", "microphone", "phone", "sms", "storage", "body_activity"}

// Defaults shared by the file format and Default.
const (
	// DefaultHold matches SystemUI's TIME_TO_HOLD_INDICATORS: even a 50 ms
	// access stays visible long enough for a person to notice.
	DefaultHold = 5 * time.Second
	// DefaultMaxSpan bounds a use that is neither finished nor renewed by
	// a heartbeat: a lost finish must not leave an indicator stuck on.
	DefaultMaxSpan = 10 * time.Minute
)

// Languages are the label languages every resource carries.
var Languages = []string{"en", "zh-CN"}

// Resource is how one resource is drawn: its icon and labels.
type Resource struct {
	Code   string            `json:"resource"`
	Icon   string            `json:"icon"`
	Labels map[string]string `json:"labels"`
}

//go:embed resources.json
var catalogueJSON []byte

// catalogue is the built-in icon and labels of every category.
var catalogue = func() map[string]Resource {
	var raw map[string]Resource
	if err := json.Unmarshal(catalogueJSON, &raw); err != nil {
		panic("indicator: bad embedded resources.json: " + err.Error())
	}
	for _, c := range Categories {
		r, ok := raw[c]
		if !ok {
			panic("indicator: resources.json lacks " + c)
		}
		r.Code = c
		raw[c] = r
	}
	return raw
}()

// Catalogue returns the built-in description of a category.
func Catalogue(code string) (Resource, bool) {
	r, ok := catalogue[code]
	if ok {
		r.Labels = clone(r.Labels)
	}
	return r, ok
}

// LED is a sysfs LED whose brightness follows one or more resources.
type LED struct {
	Path string // OS path (already under the root) of the brightness file
	On   int    // brightness when on; 0 means read max_brightness next to Path, else 1
}

// Config is the validated indicator configuration.
type Config struct {
	// Resources are the indicated resources, in display order.
	Resources []Resource
	// Hold is how long an app stays shown after its last use ended.
	Hold time.Duration
	// MaxSpan is the longest a use may go without a start or heartbeat
	// before it is ended as an anomaly.
	MaxSpan time.Duration
	// LEDs maps a resource code to its LED; resources may share one.
	LEDs map[string]LED
}

// Default is the configuration without an indicator.json: camera,
// microphone and location, 5 s hold, 10 min max span, no LEDs.
func Default() Config {
	cfg := Config{Hold: DefaultHold, MaxSpan: DefaultMaxSpan}
	for _, c := range []string{"camera", "microphone", "location"} {
		r, _ := Catalogue(c)
		cfg.Resources = append(cfg.Resources, r)
	}
	return cfg
}

// indicated reports whether code is shown.
func (c *Config) indicated(code string) bool {
	return slices.ContainsFunc(c.Resources, func(r Resource) bool { return r.Code == code })
}

// File is the JSON form of indicator.json.
type File struct {
	Version int `json:"version"`
	// Hold and MaxSpan are Go durations ("5s", "10m"); absent means the
	// default. A hold of "0s" is allowed (no minimum visible time).
	Hold    *Duration `json:"hold"`
	MaxSpan *Duration `json:"max_span"`
	// Resources lists the indicated resources in display order.
	Resources []FileResource `json:"resources"`
}

// FileResource is one indicated resource in indicator.json.
type FileResource struct {
	Resource string            `json:"resource"`
	Icon     string            `json:"icon,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	LED      *FileLED          `json:"led,omitempty"`
}

// FileLED names a sysfs LED, as a path on the device (the root is
// prefixed by the daemon).
type FileLED struct {
	Path string `json:"path"`
	On   int    `json:"on,omitempty"`
}

// FieldError says which field of indicator.json (or of a request) is
// wrong and why: the one field-error shape every part's config shares.
type FieldError = etc.FieldError

func fieldError(field, problem string) *FieldError {
	return &FieldError{Field: field, Problem: problem}
}

// Compile validates a decoded indicator.json and resolves LED paths with
// under (which prefixes the root). A nil f means the built-in default.
func Compile(f *File, under func(string) string) (Config, error) {
	if f == nil {
		return Default(), nil
	}
	if f.Version != 1 {
		return Config{}, fieldError("version", fmt.Sprintf("unsupported version %d (this permd reads version 1)", f.Version))
	}
	cfg := Config{Hold: DefaultHold, MaxSpan: DefaultMaxSpan}
	if f.Hold != nil {
		cfg.Hold = time.Duration(*f.Hold)
	}
	if f.MaxSpan != nil {
		cfg.MaxSpan = time.Duration(*f.MaxSpan)
	}
	if cfg.Hold < 0 || cfg.Hold > time.Minute {
		return Config{}, fieldError("hold", fmt.Sprintf("%s is outside 0s..1m", cfg.Hold))
	}
	if cfg.MaxSpan < time.Second || cfg.MaxSpan > 24*time.Hour {
		return Config{}, fieldError("max_span", fmt.Sprintf("%s is outside 1s..24h", cfg.MaxSpan))
	}
	if f.Resources == nil {
		cfg.Resources = Default().Resources
		return cfg, nil
	}
	for i, fr := range f.Resources {
		field := fmt.Sprintf("resources[%d]", i)
		r, ok := Catalogue(fr.Resource)
		if !ok {
			return Config{}, fieldError(field+".resource", fmt.Sprintf("unknown resource %q (known: %s)", fr.Resource, strings.Join(Categories, ", ")))
		}
		if cfg.indicated(r.Code) {
			return Config{}, fieldError(field+".resource", fmt.Sprintf("%q is listed twice", r.Code))
		}
		if fr.Icon != "" {
			r.Icon = fr.Icon
		}
		for lang, l := range fr.Labels {
			if !slices.Contains(Languages, lang) {
				return Config{}, fieldError(field+".labels."+lang, fmt.Sprintf("unknown language (known: %s)", strings.Join(Languages, ", ")))
			}
			if strings.TrimSpace(l) == "" {
				return Config{}, fieldError(field+".labels."+lang, "empty label")
			}
			r.Labels[lang] = l
		}
		if fr.LED != nil {
			p := fr.LED.Path
			if !filepath.IsAbs(p) || filepath.Clean(p) != p || filepath.Base(p) != "brightness" {
				return Config{}, fieldError(field+".led.path", fmt.Sprintf("%q is not a clean absolute path to a brightness file (e.g. /sys/class/leds/privacy-cam/brightness)", p))
			}
			if fr.LED.On < 0 {
				return Config{}, fieldError(field+".led.on", "negative brightness")
			}
			if cfg.LEDs == nil {
				cfg.LEDs = map[string]LED{}
			}
			cfg.LEDs[r.Code] = LED{Path: under(p), On: fr.LED.On}
		}
		cfg.Resources = append(cfg.Resources, r)
	}
	return cfg, nil
}

// Duration is a config duration ("5s"); see etc.Duration.
type Duration = etc.Duration

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
