package org.permd.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * DialogModelTest runs the consent dialog's option model against a real
 * permd: perm.request's answer becomes the three lists the dialog shows,
 * in English and Chinese with the catalogue's risk text, and the user's
 * choice becomes a perm.decide permd accepts as exactly that grant.
 */
public class DialogModelTest {
    private Daemon daemon;
    private PermdClient c;

    @Before
    public void setUp() throws Exception {
        daemon = Daemon.start("dialog");
        c = daemon.client().build();
    }

    @After
    public void tearDown() throws Exception {
        c.close();
        daemon.close();
    }

    private static List<String> ids(List<DialogModel.Option> os) {
        List<String> out = new ArrayList<>();
        for (DialogModel.Option o : os) {
            out.add(o.id);
        }
        return out;
    }

    private static String riskIn(JSONObject catalogue, String category, String lang) throws Exception {
        JSONArray cs = catalogue.getJSONArray("categories");
        for (int i = 0; i < cs.length(); i++) {
            if (cs.getJSONObject(i).getString("id").equals(category)) {
                return cs.getJSONObject(i).getJSONObject("risk").getString(lang);
            }
        }
        throw new AssertionError("no category " + category + " in the catalogue");
    }

    @Test(timeout = 60_000)
    public void locationChoicesBecomeExactlyThatGrant() throws Exception {
        DialogModel m = DialogModel.of(c.permRequest(10124, "com.example.maps", "location", "en").json());
        assertTrue(m.shows());
        assertEquals("location", m.category);
        assertEquals(riskIn(c.grantsCatalogue("en").json(), "location", "en"), m.risk);
        assertEquals("time options: once and while in use; durations expanded; until/window left to Settings; always explicit",
                List.of("once", "while_in_use", "duration:1h", "duration:24h", "duration:168h", "always"), ids(m.timeOptions));
        assertEquals("once", m.timeOptions.get(m.preselectedTime).id);
        assertEquals(List.of("For 1 hour", "For 24 hours", "For 7 days"),
                List.of(m.timeOptions.get(2).label, m.timeOptions.get(3).label, m.timeOptions.get(4).label));
        assertEquals(List.of("", "1/day", "10/day", "1/hour", "10/hour", "1/session"), ids(m.frequencyOptions));
        assertEquals("At most 10 times a day", m.frequencyOptions.get(2).label);
        assertEquals("At most once an hour", m.frequencyOptions.get(3).label);
        assertFalse("a custom radius is for Settings, not the dialog", ids(m.precisionOptions).contains("custom"));
        assertEquals("approx_3km", m.precisionOptions.get(m.preselectedPrecision).id);

        int inUse = m.timeIndexFor("while_in_use");
        int tenADay = ids(m.frequencyOptions).indexOf("10/day");
        int km1 = ids(m.precisionOptions).indexOf("approx_1km");
        Grant g = c.permDecide(m.decide(inUse, tenADay, km1));
        JSONObject j = g.json();
        assertEquals("dialog", j.getString("by"));
        assertEquals(10124, j.getInt("uid"));
        assertEquals("while_in_use", j.getJSONObject("time").getString("mode"));
        assertEquals(10, j.getJSONObject("frequency").getInt("max"));
        assertEquals("day", j.getJSONObject("frequency").getString("per"));
        assertEquals("approx_1km", j.getJSONObject("precision").getString("level"));

        // Granted now: no dialog, nothing to answer.
        DialogModel again = DialogModel.of(c.permRequest(10124, "com.example.maps", "location", "en").json());
        assertEquals("granted", again.status);
        assertFalse(again.shows());
        try {
            again.decide(0, 0, 0);
            fail("decide on a granted request did not refuse");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("granted"));
        }
    }

    @Test(timeout = 60_000)
    public void alwaysAndDurationsAreSentAsPermdWantsThem() throws Exception {
        DialogModel m = DialogModel.of(c.permRequest(10124, "com.example.maps", "location", "en").json());
        JSONObject j = c.permDecide(m.decide(m.timeIndexFor("always"), 0, m.preselectedPrecision)).json();
        assertEquals("always", j.getJSONObject("time").getString("mode"));
        assertTrue("always must carry the explicit background choice", j.getJSONObject("time").getBoolean("background"));
        assertFalse("no limit chosen, none sent", j.has("frequency"));

        // Camera is never allowed in the background: Android's "always" maps to while in use.
        DialogModel cam = DialogModel.of(c.permRequest(Daemon.UID_APP, Daemon.PKG_CAM, "camera", "en").json());
        assertFalse(ids(cam.timeOptions).contains("always"));
        assertEquals("while_in_use", cam.timeOptions.get(cam.timeIndexFor("always")).id);
        JSONObject d = c.permDecide(cam.decide(ids(cam.timeOptions).indexOf("duration:24h"), 0, 0)).json();
        assertEquals("duration", d.getJSONObject("time").getString("mode"));
        assertEquals("24h", d.getJSONObject("time").getString("for"));
    }

    @Test(timeout = 60_000)
    public void chineseTextsAndDenial() throws Exception {
        DialogModel m = DialogModel.of(c.permRequest(Daemon.UID_APP, Daemon.PKG_CAM, "camera", "zh-CN").json());
        assertEquals("zh-CN", m.lang);
        assertEquals(riskIn(c.grantsCatalogue("zh-CN").json(), "camera", "zh-CN"), m.risk);
        assertEquals("仅本次", m.timeOptions.get(m.preselectedTime).label);
        assertEquals("24小时内", m.timeOptions.get(ids(m.timeOptions).indexOf("duration:24h")).label);
        assertEquals("7天内", m.timeOptions.get(ids(m.timeOptions).indexOf("duration:168h")).label);
        assertEquals("不限次数", m.frequencyOptions.get(0).label);
        assertEquals(List.of("允许多久", "允许几次", "确定"), List.of(m.timeHeading, m.frequencyHeading, m.confirmLabel));
        assertEquals("每天最多10次", m.frequencyOptions.get(ids(m.frequencyOptions).indexOf("10/day")).label);
        try {
            m.decide(m.timeOptions.size(), 0, 0);
            fail("an index past the time list was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("time:"));
        }
        JSONObject g = c.permDecide(m.deny()).json();
        assertEquals("deny", g.getString("decision"));
        assertEquals("denied", DialogModel.of(c.permRequest(Daemon.UID_APP, Daemon.PKG_CAM, "camera", "zh-CN").json()).status);
    }

    @Test(timeout = 60_000)
    public void everyWindowAndDurationPermdOffersHasLabels() throws Exception {
        JSONObject cat = c.grantsCatalogue(null).json();
        JSONArray ws = cat.getJSONArray("frequency_windows");
        for (int i = 0; i < ws.length(); i++) {
            for (String lang : new String[] {"en", "zh-CN"}) {
                assertFalse(DialogModel.limitLabel(3, ws.getString(i), lang).isEmpty());
            }
        }
        JSONArray ds = cat.getJSONArray("durations");
        for (int i = 0; i < ds.length(); i++) {
            assertTrue(DialogModel.durationLabel(ds.getString(i), "en").startsWith("For "));
            assertTrue(DialogModel.durationLabel(ds.getString(i), "zh-CN").endsWith("内"));
        }
    }

    @Test
    public void malformedAnswersNameWhatIsMissing() throws Exception {
        try {
            DialogModel.of(new JSONObject("{\"status\":\"ask\",\"request_id\":\"x\"}"));
            fail("ask without a dialog was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("dialog"));
        }
        try {
            DialogModel.of(new JSONObject("{\"dialog\":{}}"));
            fail("an answer without status was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("status"));
        }
    }

    @Test
    public void languageFromTheLocale() {
        assertEquals("zh-CN", DialogModel.langFor(Locale.SIMPLIFIED_CHINESE));
        assertEquals("zh-CN", DialogModel.langFor(Locale.forLanguageTag("zh-Hans-HK")));
        assertEquals("zh-CN", DialogModel.langFor(Locale.forLanguageTag("zh")));
        assertEquals("en", DialogModel.langFor(Locale.TRADITIONAL_CHINESE));
        assertEquals("en", DialogModel.langFor(Locale.GERMANY));
    }
}
