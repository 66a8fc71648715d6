package preinstall

import (
	"strconv"
	"time"

	"permd/aosp/apk"
)

// Template returns a record with what the APK says filled in (package,
// signer certificates) and every field a person must verify left empty,
// so that the checker fails until it is filled.
func Template(rep *apk.Report, today time.Time) *Record {
	rec := &Record{
		Version:      RecordVersion,
		SignerSHA256: rep.SignerCerts(),
		Operator:     Operator{Type: "enterprise"},
		Registered:   today.Format(dateLayout),
		ReviewBy:     today.AddDate(1, 0, 0).Format(dateLayout),
		PIRules:      PIRules{Copy: "apk:assets/privacy.html"},
	}
	if rec.SignerSHA256 == nil {
		rec.SignerSHA256 = []string{}
	}
	if rep.Manifest != nil {
		rec.Package = rep.Manifest.Package
		rec.Notes = "template from " + rep.Manifest.Package + " versionCode " + strconv.FormatInt(rep.Manifest.VersionCode, 10) + "; fill in and verify every empty field"
	}
	return rec
}
