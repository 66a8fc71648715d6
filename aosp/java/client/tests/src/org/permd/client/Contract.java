package org.permd.client;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * Contract is the list of protocol methods and the roles that may call
 * each, read from the machine-readable contract docs/openrpc.json when it
 * exists (methods[].name, roles in "x-roles"), else from the method
 * headings of docs/protocol.md ("### perm.check — framework, root").
 * -Dpermd.contract=PATH points it at another file.
 */
final class Contract {
    static final Set<String> ALL_ROLES = new LinkedHashSet<>(Arrays.asList(
            "framework", "permission_ui", "settings", "systemui", "shell", "root", "app"));

    private Contract() {}

    static Path source() {
        String p = System.getProperty("permd.contract");
        if (p != null) {
            return Paths.get(p);
        }
        Path repo = Paths.get(System.getProperty("permd.repo", "."));
        Path rpc = repo.resolve("docs/openrpc.json");
        return Files.exists(rpc) ? rpc : repo.resolve("docs/protocol.md");
    }

    /** methods maps each method name to its roles (null when the source does not say). */
    static TreeMap<String, Set<String>> methods() throws Exception {
        Path src = source();
        String text = new String(Files.readAllBytes(src), StandardCharsets.UTF_8);
        return src.toString().endsWith(".json") ? fromOpenRpc(text) : fromProtocolMd(text);
    }

    static TreeMap<String, Set<String>> fromOpenRpc(String text) throws Exception {
        TreeMap<String, Set<String>> out = new TreeMap<>();
        JSONArray ms = new JSONObject(text).getJSONArray("methods");
        for (int i = 0; i < ms.length(); i++) {
            JSONObject m = ms.getJSONObject(i);
            JSONArray roles = m.optJSONArray("x-roles");
            Set<String> rs = null;
            if (roles != null) {
                rs = new LinkedHashSet<>();
                for (int j = 0; j < roles.length(); j++) {
                    rs.add(roles.getString(j));
                }
            }
            out.put(m.getString("name"), rs);
        }
        return out;
    }

    private static final Pattern HEADING = Pattern.compile("(?m)^### ([a-z]+\\.[a-z_]+)(?: \u2014 (.+))?$");

    static TreeMap<String, Set<String>> fromProtocolMd(String text) throws IOException {
        TreeMap<String, Set<String>> out = new TreeMap<>();
        Matcher m = HEADING.matcher(text);
        while (m.find()) {
            String name = m.group(1);
            String roles = m.group(2);
            if (roles == null) {
                out.putIfAbsent(name, null); // documented elsewhere too (app.state)
                continue;
            }
            roles = roles.replaceAll("\\(.*\\)", "").trim();
            Set<String> rs = new LinkedHashSet<>();
            if (roles.equals("all roles")) {
                rs.addAll(ALL_ROLES);
            } else {
                for (String r : roles.split(",")) {
                    rs.add(r.trim());
                }
            }
            out.put(name, rs);
        }
        return out;
    }

    /** typed maps each protocol method to the PermdClient method that calls it. */
    static TreeMap<String, Method> typed() {
        TreeMap<String, Method> out = new TreeMap<>();
        for (Method m : PermdClient.class.getMethods()) {
            RpcMethod a = m.getAnnotation(RpcMethod.class);
            if (a != null) {
                out.put(a.value(), m);
            }
        }
        return out;
    }
}
