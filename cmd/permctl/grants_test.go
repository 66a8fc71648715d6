package main

import (
	"strings"
	"testing"

	"permd/framework/frameworktest"
)

func TestGrantCommands(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	steps := []struct {
		args []string
		code int
		out  string // expected in stdout (ok) or stderr (error)
	}{
		{[]string{"grants"}, exitOK, "no grants"},
		{[]string{"grant", "com.example.maps", "location", "--while-in-use", "--max", "10/hour", "--precision", "3km"}, exitOK, "granted com.example.maps location: while_in_use, frequency 10/hour, precision approx_3km"},
		{[]string{"grant", "com.example.maps", "location", "--always"}, exitOK, "always"},
		{[]string{"grant", "com.example.maps", "contacts", "--for", "24h", "--precision", "selected", "--items", "1,2,3"}, exitOK, "selected (3 items)"},
		{[]string{"grant", "--window", "09:00-18:00", "com.example.chat", "microphone"}, exitOK, "daily 09:00-18:00"},
		{[]string{"grant", "com.example.maps", "sms", "--deny"}, exitOK, "denied com.example.maps sms"},
		{[]string{"grant", "com.example.maps", "location", "--precision", "2500m", "--once"}, exitOK, "custom 2500m"},
		{[]string{"grants", "--package", "com.example.maps"}, exitOK, "com.example.maps  contacts"},
		{[]string{"revoke", "com.example.maps", "contacts"}, exitOK, "revoked com.example.maps contacts"},
		// Bad input: usage errors and daemon refusals, each naming the problem.
		{[]string{"grant", "com.example.maps", "location", "--once", "--until", "2030-01-01"}, exitUsage, "--once and --until contradict"},
		{[]string{"grant", "com.example.maps", "location"}, exitUsage, "choose one of"},
		{[]string{"grant", "com.example.maps", "location", "--once", "--max", "ten"}, exitUsage, "--max"},
		// Input the daemon rejects is a usage error too, said in words.
		{[]string{"grant", "com.example.maps", "clipboard", "--once"}, exitUsage, "category: unknown category \"clipboard\" (known: calendar, call_log, camera"},
		{[]string{"grant", "com.example.maps", "camra", "--once"}, exitUsage, "(did you mean camera? known: calendar,"},
		{[]string{"grant", "com.example.maps", "location", "--window", "09:00-09:00"}, exitUsage, "time.window"},
		{[]string{"grant", "com.example.maps", "camera", "--always"}, exitUsage, "time.mode"},
		{[]string{"revoke", "com.example.none", "camera"}, exitRPCFailure, "no such grant"},
		{[]string{"revoke", "com.example.none"}, exitUsage, "want PACKAGE CATEGORY"},
	}
	for _, s := range steps {
		expectRun(t, d.Socket, s.args, s.code, s.out)
	}
	_, out, _ := permctl(t, d.Socket, "grants")
	if strings.Contains(out, "contacts") || !strings.Contains(out, "com.example.chat") {
		t.Errorf("grants after revoke:\n%s", out)
	}
}

func TestCatalogueCommand(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	code, out, errs := permctl(t, d.Socket, "catalogue", "--lang", "zh-CN")
	if code != exitOK || !strings.Contains(out, "location — 位置信息") || !strings.Contains(out, "approx_3km (大致位置（约3公里）) [默认]") {
		t.Fatalf("catalogue zh-CN: %d\n%s%s", code, out, errs)
	}
	for _, id := range []string{"calendar", "call_log", "camera", "contacts", "location", "microphone", "phone", "sms", "storage", "body_activity"} {
		if !strings.Contains(out, "\n"+id+" — ") && !strings.HasPrefix(out, id+" — ") {
			t.Errorf("catalogue lacks %s", id)
		}
	}
	if code, _, errs := permctl(t, d.Socket, "catalogue", "--lang", "fr"); code != exitUsage || !strings.Contains(errs, "--lang must be en or zh-CN") {
		t.Errorf("catalogue --lang fr: %d %s", code, errs)
	}
}
