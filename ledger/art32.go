package ledger

import (
	"fmt"
	"slices"
)

// floor is what one kind must keep accepting.
type floor struct {
	why                       string
	categories, results, keys []string
}

var art30Categories = []string{"calendar", "call_log", "camera", "contacts", "location", "microphone", "phone", "sms", "storage", "body_activity"}

// art32Floor is the least a rules file may record: the kinds Art. 32
// requires (use of the Art. 30 permissions, silent self-starts and
// associated starts, clipboard, device-identifier and app-list reads) and
// the loss record that keeps the record honest when it cannot keep up,
// each with the categories, results and detail fields it must accept. A
// new rules version may add to them but never remove or narrow them:
// that would quietly stop recording what the law says must be recorded.
var art32Floor = map[string]floor{
	"access":           {"use of the Art. 30 permissions", art30Categories, []string{"allowed", "denied", "reduced", "decoy", "rate_limited"}, nil},
	"span":             {"use of the Art. 30 permissions over time", art30Categories, []string{"allowed"}, nil},
	"self_start":       {"silent self-starts", []string{"process"}, []string{"", "allowed", "denied"}, nil},
	"associated_start": {"associated (app-to-app) starts", []string{"process"}, []string{"", "allowed", "denied"}, []string{"caller", "caller_uid"}},
	"clipboard_read":   {"clipboard reads", []string{"clipboard"}, []string{"", "allowed", "denied", "decoy"}, nil},
	"device_id_read":   {"device identifier reads", []string{"device_id"}, []string{"", "allowed", "denied", "decoy"}, nil},
	"app_list_read":    {"installed-app list reads", []string{"app_list"}, []string{"", "allowed", "denied", "decoy"}, nil},
	"overload":         {"events that could not be recorded", []string{"system"}, []string{""}, []string{"dropped", "reason"}},
}

// checkArt32 refuses rules that drop or narrow a kind of art32Floor.
func (r *Rules) checkArt32() error {
	codes := make([]string, 0, len(art32Floor))
	for c := range art32Floor {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, code := range codes {
		f := art32Floor[code]
		i := slices.IndexFunc(r.Kinds, func(k KindDef) bool { return k.Code == code })
		if i < 0 {
			return &RulesError{Field: "kinds", Problem: fmt.Sprintf("kind %q is missing: Art. 32 requires recording %s", code, f.why)}
		}
		k := &r.Kinds[i]
		for _, want := range []struct {
			field    string
			need, in []string
		}{{"categories", f.categories, k.Categories}, {"results", f.results, k.Results}, {"detail", f.keys, k.Detail}} {
			for _, c := range want.need {
				if !slices.Contains(want.in, c) {
					return &RulesError{Field: fmt.Sprintf("kinds[%d].%s", i, want.field),
						Problem: fmt.Sprintf("kind %q no longer takes %q: Art. 32 requires recording %s with it (a new version may add, never narrow)", code, c, f.why)}
				}
			}
		}
	}
	return nil
}
