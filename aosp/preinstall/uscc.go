package preinstall

import (
	"fmt"
	"strings"
)

// usccAlphabet is the character set of GB 32100-2015, valued 0-30 in
// order: digits and the capitals without I, O, Z, S, V.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// USCCProblem explains why a Unified Social Credit Code is invalid.
type USCCProblem struct {
	Position int // 1-based; 0 when the problem is the whole code
	Problem  string
}

func (p *USCCProblem) Error() string {
	if p.Position == 0 {
		return p.Problem
	}
	return fmt.Sprintf("position %d: %s", p.Position, p.Problem)
}

// ValidateUSCC checks an 18-character Unified Social Credit Code (GB
// 32100-2015): character set, the six-digit region code, and the check
// character. The error says what is wrong and where.
func ValidateUSCC(code string) error {
	if n := len([]rune(code)); n != 18 {
		return &USCCProblem{Problem: fmt.Sprintf("a USCC has 18 characters, this has %d", n)}
	}
	sum := 0
	for i := 0; i < 18; i++ {
		c := code[i]
		v := strings.IndexByte(usccAlphabet, c)
		if v < 0 {
			hint := "allowed are digits and the capitals A-Y except I, O, S, V, Z"
			if c >= 'a' && c <= 'z' {
				hint = "letters must be capitals"
			}
			return &USCCProblem{Position: i + 1, Problem: fmt.Sprintf("%q is not in the USCC character set (%s)", c, hint)}
		}
		if i >= 2 && i <= 7 && (c < '0' || c > '9') {
			return &USCCProblem{Position: i + 1, Problem: fmt.Sprintf("%q: positions 3-8 are the administrative region code (GB/T 2260), digits only", c)}
		}
		if i < 17 {
			sum += v * usccWeights[i]
		}
	}
	want := (31 - sum%31) % 31
	if got := strings.IndexByte(usccAlphabet, code[17]); got != want {
		return &USCCProblem{Position: 18, Problem: fmt.Sprintf("check character is %q but positions 1-17 give %q: a character was mistyped or swapped", code[17], usccAlphabet[want])}
	}
	return nil
}

// CheckOrgCode checks the GB 11714 organization code carried in positions
// 9-17 of a USCC (eight body characters and a check character, weights
// 3 7 9 10 5 8 4 2, mod 11, 10 written X). Some legitimately issued
// codes fail it, so callers report a failure as a warning.
func CheckOrgCode(uscc string) error {
	if len(uscc) != 18 {
		return fmt.Errorf("not an 18-character USCC")
	}
	org := uscc[8:17]
	weights := [8]int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 8; i++ {
		c := org[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return fmt.Errorf("organization code %s: %q at position %d is not a digit or capital", org, c, 9+i)
		}
		sum += v * weights[i]
	}
	w := 11 - sum%11
	want := byte('0' + w)
	switch w {
	case 10:
		want = 'X'
	case 11:
		want = '0'
	}
	if org[8] != want {
		return fmt.Errorf("organization code %s (positions 9-17): check character is %q, GB 11714 gives %q", org, org[8], want)
	}
	return nil
}
