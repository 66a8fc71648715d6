package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"permd/aosp/etc"
)

// Langs are the languages every text of the rules must carry.
var Langs = []string{"en", "zh-CN"}

// Text is one sentence or paragraph in every published language.
type Text map[string]string

// Rules is the published recording rulebook (rules.json): what is
// recorded, when, which fields, how long it is kept and who may read it.
// The ledger enforces it and the public document is rendered from it.
type Rules struct {
	Version        int          `json:"version"`
	Published      string       `json:"published"`
	Title          Text         `json:"title"`
	Intro          Text         `json:"intro"`
	CoalesceWindow etc.Duration `json:"coalesce_window"`
	CoalesceText   Text         `json:"coalesce_text"`
	CommitDelay    etc.Duration `json:"commit_delay"`
	CommitText     Text         `json:"commit_text"`
	// MaxTimeAhead bounds how far ahead of the daemon's clock a record
	// may be dated: a row stays open (unhashed) until its window after
	// its first event has passed, and rows of a kind are sealed in order,
	// so one far-future row would hold every later row of its kind open.
	MaxTimeAhead   etc.Duration `json:"max_time_ahead"`
	MaxRecords     int          `json:"max_records_per_report"`
	MaxDetailBytes int          `json:"max_detail_bytes"`
	RetentionEvery etc.Duration `json:"retention_schedule"`
	Fields         []Field      `json:"fields"`
	Categories     []Code       `json:"categories"`
	Results        []Code       `json:"results"`
	AppStates      []Code       `json:"app_states"`
	Kinds          []KindDef    `json:"kinds"`
	Readers        []ReaderRule `json:"readers"`

	raw   []byte
	kinds map[string]*KindDef
}

// Field documents one column of a record.
type Field struct {
	Name string `json:"name"`
	Text Text   `json:"text"`
}

// Code is one category, result or app state.
type Code struct {
	Code string `json:"code"`
	Name Text   `json:"name"`
	Risk Text   `json:"risk,omitempty"`
}

// KindDef says what one kind of record is, what triggers it, which
// codes it may carry, whether it coalesces and how long it is kept.
type KindDef struct {
	Code          string   `json:"code"`
	Name          Text     `json:"name"`
	Trigger       Text     `json:"trigger"`
	Categories    []string `json:"categories"`
	Results       []string `json:"results"`
	Detail        []string `json:"detail"`
	Coalesce      bool     `json:"coalesce"`
	RetentionDays int      `json:"retention_days"`
	RetentionWhy  Text     `json:"retention_why"`
}

// ReaderRule says what one role may read.
type ReaderRule struct {
	Role string `json:"role"`
	Text Text   `json:"text"`
}

// Retention is how long rows of this kind are kept.
func (k *KindDef) Retention() time.Duration {
	return time.Duration(k.RetentionDays) * 24 * time.Hour
}

// DefaultMaxTimeAhead is max_time_ahead for rules that do not set it.
const DefaultMaxTimeAhead = time.Minute

// Kind returns the definition of a kind, or nil.
func (r *Rules) Kind(code string) *KindDef { return r.kinds[code] }

// Raw returns the exact bytes the rules were parsed from.
func (r *Rules) Raw() []byte { return r.raw }

// Window is the coalescing window.
func (r *Rules) Window() time.Duration { return time.Duration(r.CoalesceWindow) }

// RulesError says which field of rules.json is wrong.
type RulesError struct {
	Field   string
	Problem string
}

func (e *RulesError) Error() string {
	if e.Field == "" {
		return "rules: " + e.Problem
	}
	return "rules: field " + e.Field + ": " + e.Problem
}

// ParseRules decodes and validates rules.json strictly.
func ParseRules(raw []byte) (*Rules, error) {
	r := &Rules{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return nil, decodeRulesError(err)
	}
	r.raw = bytes.Clone(raw)
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeRulesError names the field a decoding failure is about, with the
// duration text every config file shares.
func decodeRulesError(err error) error {
	var ute *json.UnmarshalTypeError
	if !errors.As(err, &ute) {
		return &RulesError{Problem: err.Error()}
	}
	msg, _ := etc.TypeProblem(ute)
	return &RulesError{Field: ute.Field, Problem: msg}
}

func (r *Rules) validate() error {
	bad := func(field, f string, a ...any) error { return &RulesError{Field: field, Problem: fmt.Sprintf(f, a...)} }
	if r.Version < 1 {
		return bad("version", "must be a positive integer, got %d", r.Version)
	}
	if w := r.Window(); w < 0 || w > time.Hour {
		return bad("coalesce_window", "%s is outside 0..1h", w)
	}
	if d := time.Duration(r.CommitDelay); d <= 0 || d > 5*time.Second {
		return bad("commit_delay", "%s is outside (0, 5s]", d)
	}
	if r.MaxTimeAhead == 0 {
		r.MaxTimeAhead = etc.Duration(DefaultMaxTimeAhead) // rules written before the field existed
	}
	if d := time.Duration(r.MaxTimeAhead); d < time.Second || d > time.Hour {
		return bad("max_time_ahead", "%s is outside 1s..1h", d)
	}
	if r.MaxRecords < 1 || r.MaxRecords > 100000 {
		return bad("max_records_per_report", "%d is outside 1..100000", r.MaxRecords)
	}
	if r.MaxDetailBytes < 2 || r.MaxDetailBytes > 64<<10 {
		return bad("max_detail_bytes", "%d is outside 2..65536", r.MaxDetailBytes)
	}
	if d := time.Duration(r.RetentionEvery); d < time.Second || d > 7*24*time.Hour {
		return bad("retention_schedule", "%s is outside 1s..168h", d)
	}
	texts := map[string]Text{"title": r.Title, "intro": r.Intro, "coalesce_text": r.CoalesceText, "commit_text": r.CommitText}
	for i, f := range r.Fields {
		texts[fmt.Sprintf("fields[%d].text", i)] = f.Text
	}
	codes := func(field string, list []Code, risk bool) (map[string]bool, error) {
		set := map[string]bool{}
		for i, c := range list {
			f := fmt.Sprintf("%s[%d]", field, i)
			if set[c.Code] {
				return nil, bad(f+".code", "duplicate code %q", c.Code)
			}
			set[c.Code] = true
			texts[f+".name"] = c.Name
			if risk {
				texts[f+".risk"] = c.Risk
			}
		}
		return set, nil
	}
	cats, err := codes("categories", r.Categories, true)
	if err != nil {
		return err
	}
	if cats[""] {
		return bad("categories", "the empty category is not allowed")
	}
	results, err := codes("results", r.Results, false)
	if err != nil {
		return err
	}
	if _, err := codes("app_states", r.AppStates, false); err != nil {
		return err
	}
	if len(r.Kinds) == 0 {
		return bad("kinds", "no kinds")
	}
	r.kinds = map[string]*KindDef{}
	for i := range r.Kinds {
		k := &r.Kinds[i]
		f := fmt.Sprintf("kinds[%d]", i)
		if k.Code == "" || r.kinds[k.Code] != nil {
			return bad(f+".code", "empty or duplicate code %q", k.Code)
		}
		r.kinds[k.Code] = k
		if len(k.Categories) == 0 {
			return bad(f+".categories", "no categories")
		}
		for j, c := range k.Categories {
			if !cats[c] {
				return bad(fmt.Sprintf("%s.categories[%d]", f, j), "unknown category %q", c)
			}
		}
		if len(k.Results) == 0 {
			return bad(f+".results", "no results (use [\"\"] where none applies)")
		}
		for j, c := range k.Results {
			if !results[c] {
				return bad(fmt.Sprintf("%s.results[%d]", f, j), "unknown result %q", c)
			}
		}
		if k.RetentionDays < 1 || k.RetentionDays > 3650 {
			return bad(f+".retention_days", "%d is outside 1..3650", k.RetentionDays)
		}
		texts[f+".name"], texts[f+".trigger"], texts[f+".retention_why"] = k.Name, k.Trigger, k.RetentionWhy
	}
	for i, rd := range r.Readers {
		texts[fmt.Sprintf("readers[%d].text", i)] = rd.Text
	}
	for field, t := range texts {
		for _, l := range Langs {
			if strings.TrimSpace(t[l]) == "" {
				return bad(field, "missing %s text", l)
			}
		}
		for l := range t {
			if !slices.Contains(Langs, l) {
				return bad(field, "unknown language %q (known: %v)", l, Langs)
			}
		}
	}
	return r.checkArt32()
}

// category returns the definition of a category code, or nil.
func (r *Rules) category(code string) *Code {
	for i := range r.Categories {
		if r.Categories[i].Code == code {
			return &r.Categories[i]
		}
	}
	return nil
}

func (r *Rules) hasState(code string) bool {
	return slices.ContainsFunc(r.AppStates, func(c Code) bool { return c.Code == code })
}
