package grants

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCatalogueHasTheTenCategories(t *testing.T) {
	cat, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"calendar", "call_log", "camera", "contacts", "location", "microphone", "phone", "sms", "storage", "body_activity"}
	if got := cat.IDs(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("categories %v, want %v", got, want)
	}
	for _, tc := range []struct{ name, cat string }{
		{"android.permission.READ_CALENDAR", "calendar"},
		{"android.permission.WRITE_CALENDAR", "calendar"},
		{"android.permission.READ_CALL_LOG", "call_log"},
		{"android.permission.WRITE_CALL_LOG", "call_log"},
		{"android.permission.PROCESS_OUTGOING_CALLS", "call_log"},
		{"android.permission.CAMERA", "camera"},
		{"android.permission.BACKGROUND_CAMERA", "camera"},
		{"android.permission.READ_CONTACTS", "contacts"},
		{"android.permission.WRITE_CONTACTS", "contacts"},
		{"android.permission.GET_ACCOUNTS", "contacts"},
		{"android.permission.ACCESS_FINE_LOCATION", "location"},
		{"android.permission.ACCESS_COARSE_LOCATION", "location"},
		{"android.permission.ACCESS_BACKGROUND_LOCATION", "location"},
		{"android.permission.RECORD_AUDIO", "microphone"},
		{"android.permission.RECORD_BACKGROUND_AUDIO", "microphone"},
		{"android.permission.READ_PHONE_STATE", "phone"},
		{"android.permission.READ_PHONE_NUMBERS", "phone"},
		{"android.permission.CALL_PHONE", "phone"},
		{"android.permission.ANSWER_PHONE_CALLS", "phone"},
		{"com.android.voicemail.permission.ADD_VOICEMAIL", "phone"},
		{"android.permission.USE_SIP", "phone"},
		{"android.permission.ACCEPT_HANDOVER", "phone"},
		{"android.permission.SEND_SMS", "sms"},
		{"android.permission.RECEIVE_SMS", "sms"},
		{"android.permission.READ_SMS", "sms"},
		{"android.permission.RECEIVE_WAP_PUSH", "sms"},
		{"android.permission.RECEIVE_MMS", "sms"},
		{"android.permission.READ_EXTERNAL_STORAGE", "storage"},
		{"android.permission.WRITE_EXTERNAL_STORAGE", "storage"},
		{"android.permission.READ_MEDIA_IMAGES", "storage"},
		{"android.permission.READ_MEDIA_VIDEO", "storage"},
		{"android.permission.READ_MEDIA_AUDIO", "storage"},
		{"android.permission.READ_MEDIA_VISUAL_USER_SELECTED", "storage"},
		{"android.permission.MANAGE_EXTERNAL_STORAGE", "storage"},
		{"android.permission.ACTIVITY_RECOGNITION", "body_activity"},
		{"android.permission.BODY_SENSORS", "body_activity"},
		{"android.permission.BODY_SENSORS_BACKGROUND", "body_activity"},
		{"android.permission.health.READ_HEART_RATE", "body_activity"},
		{"CAMERA", "camera"},
		{"android:fine_location", "location"},
		{"android:coarse_location", "location"},
		{"android:read_contacts", "contacts"},
		{"android:read_call_log", "call_log"},
		{"android:read_calendar", "calendar"},
		{"android:read_sms", "sms"},
		{"android:camera", "camera"},
		{"android:record_audio", "microphone"},
		{"android:read_phone_state", "phone"},
		{"android:body_sensors", "body_activity"},
		{"android:activity_recognition", "body_activity"},
		{"android:read_media_visual_user_selected", "storage"},
	} {
		c, ok := cat.Lookup(tc.name)
		if !ok || c.ID != tc.cat {
			t.Errorf("Lookup(%s) = %v, want %s", tc.name, c, tc.cat)
		}
	}
	if _, ok := cat.Lookup("android.permission.INTERNET"); ok {
		t.Error("INTERNET maps to a category; it is not an Art. 30 permission")
	}
	zh := cat.Localized("zh-CN")
	if l := zh.Categories[4].Label; len(l) != 1 || l["zh-CN"] != "位置信息" {
		t.Errorf("zh-CN location label %v", l)
	}
}

// TestNewLevelIsData adds a precision level as a data row and uses it.
func TestNewLevelIsData(t *testing.T) {
	cat, err := LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := cat.Category("location")
	loc.Levels = append(loc.Levels, Level{ID: "district", Effect: EffectRadius, RadiusM: 5000, Label: Text{"en": "District", "zh-CN": "区县"}})
	g, err := cat.Normalize(Grant{Package: appPkg, Category: "location", Decision: Allow, Time: TimeRule{Mode: ModeWhileInUse}, Precision: Precision{Level: "district"}}, time.Now())
	if err != nil || g.Precision.Level != "district" {
		t.Fatalf("new level: %+v %v", g.Precision, err)
	}
}

// TestCatalogueRejectsBadData: a catalogue edit that would break the
// dialog or enforcement fails to load, naming the problem.
func TestCatalogueRejectsBadData(t *testing.T) {
	base := `{"version":1,"durations":["1h"],"frequency_windows":["hour"],"categories":[%s]}`
	good := `{"id":"camera","code":3,"label":{"en":"Camera","zh-CN":"相机"},"risk":{"en":"r","zh-CN":"r"},"permissions":["android.permission.CAMERA"],"time_modes":["once"],"background":"never","levels":[{"id":"full","effect":"full","label":{"en":"x","zh-CN":"x"}}],"default_level":"full"}`
	if _, err := ParseCatalogue([]byte(fmt.Sprintf(base, good))); err != nil {
		t.Fatalf("good catalogue: %v", err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"no zh-CN risk", `"risk":{"en":"r","zh-CN":"r"}`, `"risk":{"en":"r"}`, "risk needed in zh-CN"},
		{"unknown mode", `"time_modes":["once"]`, `"time_modes":["forever"]`, "unknown time mode"},
		{"unknown effect", `"effect":"full"`, `"effect":"blur"`, "unknown effect"},
		{"default not a level", `"default_level":"full"`, `"default_level":"raw"`, "default_level"},
		{"bad background", `"background":"never"`, `"background":"sometimes"`, "background"},
	} {
		_, err := ParseCatalogue([]byte(fmt.Sprintf(base, strings.Replace(good, tc.from, tc.to, 1))))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := ParseCatalogue([]byte(fmt.Sprintf(base, good+","+good))); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate category: %v", err)
	}
}
