package preinstall

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
)

// CheckPhone accepts the contact numbers an operator can be reached at:
// mainland mobile (1[3-9] + 9 digits), landline with area code
// (0xx-xxxxxxxx), 400/800 service numbers, and international numbers in
// E.164 form (+ and 7-15 digits). Spaces and hyphens are ignored, +86 or
// 0086 before a mainland number is allowed.
func CheckPhone(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty")
	}
	d := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, s)
	intl := strings.HasPrefix(d, "+")
	if intl {
		d = d[1:]
	}
	for _, r := range d {
		if r < '0' || r > '9' {
			return fmt.Errorf("%q: only digits, spaces, hyphens, parentheses and a leading + are allowed", s)
		}
	}
	cc := false // a mainland number written with its country code
	if strings.HasPrefix(d, "0086") {
		d, intl, cc = d[4:], false, true
	} else if intl && strings.HasPrefix(d, "86") {
		d, intl, cc = d[2:], false, true
	}
	if d == "" {
		return fmt.Errorf("%q has no subscriber number", s)
	}
	if intl {
		if len(d) < 7 || len(d) > 15 || d[0] == '0' {
			return fmt.Errorf("%q: an international number is + country code and subscriber, 7-15 digits", s)
		}
		return nil
	}
	switch {
	case len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9':
		return nil // mobile
	case (strings.HasPrefix(d, "400") || strings.HasPrefix(d, "800")) && len(d) == 10:
		return nil // service number
	case d[0] == '0' && len(d) >= 10 && len(d) <= 12:
		return nil // area code 0xx/0xxx + 7-8 digits
	case cc && len(d) >= 9 && len(d) <= 11 && d[0] != '0' && d[0] != '1':
		return nil // landline written without the trunk 0 after +86
	}
	return fmt.Errorf("%q is not a mainland mobile (11 digits from 13-19), a landline with area code (0xx-xxxxxxxx), a 400/800 number, or +country-code international number", s)
}

// CheckEmail accepts a bare address (no display name) whose domain has a
// dot.
func CheckEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return fmt.Errorf("%q is not an e-mail address: %v", s, err)
	}
	if a.Name != "" || a.Address != strings.TrimSpace(s) {
		return fmt.Errorf("%q: give the bare address, without a display name", s)
	}
	at := strings.LastIndexByte(a.Address, '@')
	dom := a.Address[at+1:]
	if !strings.Contains(dom, ".") || strings.HasPrefix(dom, ".") || strings.HasSuffix(dom, ".") {
		return fmt.Errorf("%q: domain %q has no dot", s, dom)
	}
	return nil
}

// CheckURL accepts an absolute http(s) URL with a host. secure reports
// whether it is https.
func CheckURL(s string) (secure bool, err error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return false, fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return false, fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return u.Scheme == "https", nil
}
