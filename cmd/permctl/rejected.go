package main

import (
	"errors"
	"regexp"
	"strings"
)

var (
	goListRE = regexp.MustCompile(`\[([^\[\]]*)\]`)
	knownRE  = regexp.MustCompile(`"([^"]*)" \(known: \[([^\[\]]*)\]\)`)
)

// rejectedText turns the daemon's message for input it rejected into
// words: lists as "a, b, c" rather than Go's "[a b c]", and a
// suggestion when the rejected value is close to a known one
// ("unknown category \"camra\" (did you mean camera? known: ...)").
func rejectedText(msg string) string {
	msg = knownRE.ReplaceAllStringFunc(msg, func(m string) string {
		sub := knownRE.FindStringSubmatch(m)
		known := strings.Fields(sub[2])
		s := `"` + sub[1] + `" (`
		if d := didYouMean(sub[1], known); d != "" {
			s += strings.TrimSuffix(strings.TrimPrefix(d, " ("), ")") + " "
		}
		return s + "known: " + strings.Join(known, ", ") + ")"
	})
	return goListRE.ReplaceAllStringFunc(msg, func(m string) string {
		return strings.Join(strings.Fields(m[1:len(m)-1]), ", ")
	})
}

func asUsage(err error, ue **usageError) bool { return errors.As(err, ue) }
