package org.permd.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * DialogModel turns perm.request's answer into the choices a consent
 * dialog shows and the dialog's answer back into perm.decide params. It
 * is plain Java, tested on a host against a real permd, so that the
 * PermissionController patch only draws three lists and sends what this
 * returns.
 *
 * <p>The three lists, each with localized labels (en, zh-CN):
 * <ul>
 * <li>time: the category's time modes, a "for a while" mode expanded to
 *     one entry per offered duration; "until a date" and "every day
 *     between" need a date or time picker and are left to Settings;
 *     "always" only where background use may be granted, and then
 *     granting it explicitly;</li>
 * <li>frequency: no limit, or a few limits over the windows permd offers;</li>
 * <li>precision: the category's levels except custom radii (Settings
 *     again); empty when the category has one level.</li>
 * </ul>
 * Each list starts at permd's preselected, most protective reasonable
 * choice.
 */
public final class DialogModel {
    /** Option is one entry of a list: what is shown, and what it sends. */
    public static final class Option {
        /** id names the option, e.g. "once", "duration:24h", "10/day", "approx_3km". */
        public final String id;
        /** label is the text to show, in the model's language. */
        public final String label;

        Option(String id, String label) {
            this.id = id;
            this.label = label;
        }

        @Override
        public String toString() {
            return id + "=" + label;
        }
    }

    // The frequency limits offered, most protective first; only those over
    // a window permd offers are shown.
    private static final int[][] LIMITS = {{1, 0}, {10, 0}, {1, 1}, {10, 1}, {1, 2}};
    private static final String[] LIMIT_WINDOWS = {"day", "hour", "session"};

    /** status is "ask" (show the dialog), "granted" or "denied" (do not). */
    public final String status;
    /** requestId is the id perm.decide must carry ("" unless status is ask). */
    public final String requestId;
    /** category is permd's category id. */
    public final String category;
    /** lang is the language of every text: en or zh-CN. */
    public final String lang;
    /** title is the dialog's question. */
    public final String title;
    /** risk is the accurate risk text of the category. */
    public final String risk;
    /** icon names the category's icon resource. */
    public final String icon;
    /** timeOptions lists the time choices; never empty when status is ask. */
    public final List<Option> timeOptions;
    /** frequencyOptions lists "no limit" and the limits offered. */
    public final List<Option> frequencyOptions;
    /** precisionOptions lists the levels; empty when the category has one. */
    public final List<Option> precisionOptions;
    /** preselectedTime is the index in timeOptions to start from. */
    public final int preselectedTime;
    /** preselectedPrecision is the index in precisionOptions to start from (0 when empty). */
    public final int preselectedPrecision;
    /** timeHeading, frequencyHeading, precisionHeading head the three lists. */
    public final String timeHeading;
    /** frequencyHeading heads the frequency list. */
    public final String frequencyHeading;
    /** precisionHeading heads the precision list. */
    public final String precisionHeading;
    /** confirmLabel is the dialog's confirming button. */
    public final String confirmLabel;

    private final boolean backgroundExplicit;
    private final String defaultLevel;

    private DialogModel(JSONObject r) throws JSONException {
        status = need(r, "status").toString();
        requestId = r.optString("request_id", "");
        JSONObject d = r.optJSONObject("dialog");
        if (!status.equals("ask")) {
            JSONObject g = r.optJSONObject("grant");
            category = g == null ? "" : g.optString("category");
            lang = title = risk = icon = "";
            timeHeading = frequencyHeading = precisionHeading = confirmLabel = "";
            timeOptions = frequencyOptions = precisionOptions = Collections.emptyList();
            preselectedTime = preselectedPrecision = 0;
            backgroundExplicit = false;
            defaultLevel = "";
            return;
        }
        if (d == null) {
            throw new IllegalArgumentException("perm.request: status ask without a dialog");
        }
        if (requestId.isEmpty()) {
            throw new IllegalArgumentException("perm.request: status ask without a request_id");
        }
        category = need(d, "category").toString();
        lang = d.optString("lang", "en");
        boolean zh = lang.equals("zh-CN");
        timeHeading = zh ? "允许多久" : "For how long";
        frequencyHeading = zh ? "允许几次" : "How often";
        precisionHeading = zh ? "提供多少" : "How much";
        confirmLabel = zh ? "确定" : "OK";
        title = need(d, "title").toString();
        risk = need(d, "risk").toString();
        icon = d.optString("icon");
        String background = d.optString("background", "never");
        backgroundExplicit = !background.equals("never");
        JSONObject pre = d.optJSONObject("preselected");
        String preMode = pre == null ? "once" : pre.optJSONObject("time") == null ? "once" : pre.getJSONObject("time").optString("mode", "once");
        defaultLevel = pre == null || pre.optJSONObject("precision") == null ? "" : pre.getJSONObject("precision").optString("level");

        List<Option> times = new ArrayList<>();
        JSONArray modes = (JSONArray) need(d, "time_modes");
        JSONArray durations = d.optJSONArray("durations");
        int preTime = 0;
        for (int i = 0; i < modes.length(); i++) {
            JSONObject m = modes.getJSONObject(i);
            String id = m.getString("id");
            switch (id) {
                case "duration":
                    for (int j = 0; durations != null && j < durations.length(); j++) {
                        times.add(new Option("duration:" + durations.getString(j), durationLabel(durations.getString(j), lang)));
                    }
                    break;
                case "until":
                case "window":
                    break; // need a picker: Settings
                case "always":
                    if (backgroundExplicit) {
                        times.add(new Option(id, m.optString("label", id)));
                    }
                    break;
                default:
                    if (id.equals(preMode)) {
                        preTime = times.size();
                    }
                    times.add(new Option(id, m.optString("label", id)));
            }
        }
        if (times.isEmpty()) {
            throw new IllegalArgumentException("perm.request: dialog.time_modes offers nothing a dialog can show");
        }
        timeOptions = Collections.unmodifiableList(times);
        preselectedTime = preTime;

        List<Option> freq = new ArrayList<>();
        freq.add(new Option("", lang.equals("zh-CN") ? "不限次数" : "No limit"));
        JSONArray windows = d.optJSONArray("frequency_windows");
        List<String> offered = new ArrayList<>();
        for (int i = 0; windows != null && i < windows.length(); i++) {
            offered.add(windows.getString(i));
        }
        for (int[] l : LIMITS) {
            String w = LIMIT_WINDOWS[l[1]];
            if (offered.contains(w)) {
                freq.add(new Option(l[0] + "/" + w, limitLabel(l[0], w, lang)));
            }
        }
        frequencyOptions = Collections.unmodifiableList(freq);

        List<Option> levels = new ArrayList<>();
        JSONArray ls = d.optJSONArray("levels");
        int preLevel = 0;
        for (int i = 0; ls != null && i < ls.length(); i++) {
            JSONObject l = ls.getJSONObject(i);
            if (l.optBoolean("custom")) {
                continue; // a radius of the user's own: Settings
            }
            if (l.getString("id").equals(defaultLevel)) {
                preLevel = levels.size();
            }
            levels.add(new Option(l.getString("id"), l.optString("label", l.getString("id"))));
        }
        precisionOptions = Collections.unmodifiableList(levels);
        preselectedPrecision = preLevel;
    }

    /**
     * of reads perm.request's result. It throws IllegalArgumentException
     * naming what is missing when the result is not one permd gives.
     */
    public static DialogModel of(JSONObject permRequestResult) {
        try {
            return new DialogModel(permRequestResult);
        } catch (JSONException e) {
            throw new IllegalArgumentException("perm.request: " + e.getMessage(), e);
        }
    }

    private static Object need(JSONObject o, String field) {
        Object v = o.opt(field);
        if (v == null || v == JSONObject.NULL) {
            throw new IllegalArgumentException("perm.request: missing " + field);
        }
        return v;
    }

    /** langFor picks the dialog language for a locale: zh-CN for Simplified Chinese, else en. */
    public static String langFor(Locale l) {
        if (!l.getLanguage().equals("zh")) {
            return "en";
        }
        if (l.getScript().equals("Hans") || l.getCountry().equals("CN") || l.getCountry().equals("SG")
                || (l.getScript().isEmpty() && l.getCountry().isEmpty())) {
            return "zh-CN";
        }
        return "en"; // Traditional Chinese: permd has no text in it
    }

    /** durationLabel names a "for a while" choice: "For 24 hours", "7天内". */
    static String durationLabel(String goDuration, String lang) {
        long min = TimeUnit.NANOSECONDS.toMinutes(GoDuration.parseNanos(goDuration));
        boolean zh = lang.equals("zh-CN");
        if (min % (24 * 60) == 0 && min >= 48 * 60) {
            long days = min / (24 * 60);
            return zh ? days + "天内" : "For " + days + " days";
        }
        if (min % 60 == 0) {
            long h = min / 60;
            return zh ? h + "小时内" : "For " + h + (h == 1 ? " hour" : " hours");
        }
        return zh ? min + "分钟内" : "For " + min + (min == 1 ? " minute" : " minutes");
    }

    /** limitLabel names a frequency limit: "At most 10 times a day", "每天最多10次". */
    static String limitLabel(int max, String window, String lang) {
        if (lang.equals("zh-CN")) {
            switch (window) {
                case "minute":
                    return "每分钟最多" + max + "次";
                case "hour":
                    return "每小时最多" + max + "次";
                case "day":
                    return "每天最多" + max + "次";
                case "session":
                    return "每次使用期间最多" + max + "次";
                default:
                    throw new IllegalArgumentException("no label for frequency window " + window);
            }
        }
        String times = max == 1 ? "once" : max + " times";
        switch (window) {
            case "minute":
            case "hour":
            case "day":
                return "At most " + times + " a" + (window.equals("hour") ? "n " : " ") + window;
            case "session":
                return "At most " + times + " each time the app is in use";
            default:
                throw new IllegalArgumentException("no label for frequency window " + window);
        }
    }

    /** shows says whether the dialog is to be shown at all. */
    public boolean shows() {
        return status.equals("ask");
    }

    /**
     * decide builds perm.decide params for the options at these indexes
     * (precision ignored when precisionOptions is empty). It throws
     * IllegalArgumentException naming the list an index is outside of,
     * and IllegalStateException when there is no dialog to answer.
     */
    public JSONObject decide(int time, int frequency, int precision) {
        if (!shows()) {
            throw new IllegalStateException("perm.request answered " + status + ": there is no dialog to answer");
        }
        check("time", time, timeOptions);
        check("frequency", frequency, frequencyOptions);
        if (!precisionOptions.isEmpty()) {
            check("precision", precision, precisionOptions);
        }
        try {
            JSONObject p = new JSONObject().put("request_id", requestId).put("decision", "allow");
            String t = timeOptions.get(time).id;
            JSONObject tr = new JSONObject();
            if (t.startsWith("duration:")) {
                tr.put("mode", "duration").put("for", t.substring("duration:".length()));
            } else {
                tr.put("mode", t);
                if (t.equals("always")) {
                    tr.put("background", true); // chosen explicitly in this dialog
                }
            }
            p.put("time", tr);
            String f = frequencyOptions.get(frequency).id;
            if (!f.isEmpty()) {
                String[] mw = f.split("/");
                p.put("frequency", new JSONObject().put("max", Integer.parseInt(mw[0])).put("per", mw[1]));
            }
            if (!precisionOptions.isEmpty()) {
                p.put("precision", new JSONObject().put("level", precisionOptions.get(precision).id));
            } else if (!defaultLevel.isEmpty()) {
                p.put("precision", new JSONObject().put("level", defaultLevel));
            }
            return p;
        } catch (JSONException e) {
            throw new IllegalStateException("building perm.decide params: " + e.getMessage(), e);
        }
    }

    /** deny builds perm.decide params for "Don't allow". */
    public JSONObject deny() {
        if (!shows()) {
            throw new IllegalStateException("perm.request answered " + status + ": there is no dialog to answer");
        }
        try {
            return new JSONObject().put("request_id", requestId).put("decision", "deny");
        } catch (JSONException e) {
            throw new IllegalStateException("building perm.decide params: " + e.getMessage(), e);
        }
    }

    /**
     * timeIndexFor returns the time option matching the button the user
     * pressed in Android's own dialog ("always", "while_in_use", "once"),
     * or the preselected one when the category does not offer it (camera
     * and microphone are never allowed in the background).
     */
    public int timeIndexFor(String androidChoice) {
        for (int i = 0; i < timeOptions.size(); i++) {
            if (timeOptions.get(i).id.equals(androidChoice)) {
                return i;
            }
        }
        if (androidChoice.equals("always")) {
            return timeIndexFor("while_in_use");
        }
        return preselectedTime;
    }

    private static void check(String list, int i, List<Option> options) {
        if (i < 0 || i >= options.size()) {
            throw new IllegalArgumentException(list + ": option " + i + " is outside 0.." + (options.size() - 1));
        }
    }
}
