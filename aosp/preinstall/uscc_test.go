package preinstall

import (
	"strings"
	"testing"
)

// validUSCCs pass GB 32100-2015: the standard's worked example and codes
// built with its check-character rule.
var validUSCCs = []string{"91350100M000100Y43", "91110000802100433B", "9144030071526726XG"}

func TestUSCCValid(t *testing.T) {
	for _, c := range validUSCCs {
		if err := ValidateUSCC(c); err != nil {
			t.Errorf("ValidateUSCC(%s) = %v, want valid", c, err)
		}
	}
	if err := CheckOrgCode("91350100M000100Y43"); err != nil {
		t.Errorf("org code of the standard's example: %v", err)
	}
}

func TestUSCCEverySingleCharacterChangeFails(t *testing.T) {
	alphabet := usccAlphabet + "IOSVZabc-* "
	for _, code := range validUSCCs {
		for i := 0; i < len(code); i++ {
			for _, r := range alphabet {
				if byte(r) == code[i] {
					continue
				}
				bad := code[:i] + string(r) + code[i+1:]
				err := ValidateUSCC(bad)
				if err == nil {
					t.Fatalf("ValidateUSCC(%s) (position %d changed from %q to %q) passed, want failure", bad, i+1, code[i], r)
				}
				p, ok := err.(*USCCProblem)
				if !ok || p.Position == 0 {
					t.Fatalf("ValidateUSCC(%s) = %v, want a problem naming a position", bad, err)
				}
			}
		}
	}
}

func TestUSCCExplains(t *testing.T) {
	cases := []struct{ code, want string }{
		{"91350100M000100Y4", "18 characters, this has 17"},
		{"91350100M000100Y431", "this has 19"},
		{"91350100M000100Y44", "position 18: check character is '4' but positions 1-17 give '3'"},
		{"91350100M0001O0Y43", "position 14: 'O' is not in the USCC character set"},
		{"91350100m000100Y43", "letters must be capitals"},
		{"913501A0M000100Y43", "position 7: 'A': positions 3-8 are the administrative region code"},
		{"", "this has 0"},
	}
	for _, c := range cases {
		err := ValidateUSCC(c.code)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidateUSCC(%q) = %v, want it to say %q", c.code, err, c.want)
		}
	}
}

func TestOrgCodeWarning(t *testing.T) {
	// Valid USCC check character, wrong GB 11714 check character.
	code := "91350100M000100Y5"
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccAlphabet, code[i]) * usccWeights[i]
	}
	code += string(usccAlphabet[(31-sum%31)%31])
	if err := ValidateUSCC(code); err != nil {
		t.Fatalf("constructed code %s: %v", code, err)
	}
	if err := CheckOrgCode(code); err == nil || !strings.Contains(err.Error(), "GB 11714 gives '4'") {
		t.Errorf("CheckOrgCode(%s) = %v, want a GB 11714 mismatch", code, err)
	}
}

func TestPhoneAndEmail(t *testing.T) {
	good := []string{"13812345678", "+86 138 1234 5678", "0086-13812345678", "010-12345678", "0591-8765432", "400-123-4567", "+44 20 7946 0000", "(021) 6123 4567"}
	for _, p := range good {
		if err := CheckPhone(p); err != nil {
			t.Errorf("CheckPhone(%q) = %v, want ok", p, err)
		}
	}
	bad := []string{"", "12345", "1381234567", "23812345678", "phone: 13812345678", "+0 123", "12812345678"}
	for _, p := range bad {
		if err := CheckPhone(p); err == nil {
			t.Errorf("CheckPhone(%q) passed, want error", p)
		}
	}
	for _, e := range []string{"privacy@example.com", "a.b+c@mail.example.cn"} {
		if err := CheckEmail(e); err != nil {
			t.Errorf("CheckEmail(%q) = %v", e, err)
		}
	}
	for _, e := range []string{"", "example.com", "a@b", "Privacy <p@example.com>", "a@@example.com", "a@example."} {
		if err := CheckEmail(e); err == nil {
			t.Errorf("CheckEmail(%q) passed, want error", e)
		}
	}
}
