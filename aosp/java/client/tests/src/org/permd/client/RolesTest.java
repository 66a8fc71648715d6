package org.permd.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.json.JSONObject;
import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * RolesTest re-runs the Java client as other uids (setpriv) against a
 * real permd and checks that each role gets exactly the methods the
 * contract gives it, through the typed API: a method of the role is never
 * refused with PERMISSION_DENIED, any other method always is.
 */
public class RolesTest {
    private static Daemon daemon;

    @BeforeClass
    public static void start() throws Exception {
        daemon = Daemon.start("roles");
    }

    @AfterClass
    public static void stop() throws Exception {
        daemon.close();
    }

    private static JSONObject probeAs(int uid) throws Exception {
        Assume.assumeTrue("setpriv needs root", "root".equals(System.getProperty("user.name")));
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--groups=" + Daemon.SOCKET_GID, "--",
                System.getProperty("java.home") + "/bin/java", "-cp", System.getProperty("permd.classpath"),
                "-Djava.io.tmpdir=" + System.getProperty("permd.tmp"), RoleProbe.class.getName(), daemon.socket.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("probe as uid " + uid + " did not finish");
        }
        String s = out.toString(StandardCharsets.UTF_8).trim();
        assertEquals("probe as uid " + uid + " failed: " + s, 0, p.exitValue());
        String last = s.substring(s.lastIndexOf('\n') + 1);
        return new JSONObject(last);
    }

    private static void check(String role, JSONObject got) throws Exception {
        assertEquals("role of the probe", role, got.getString("_role"));
        TreeMap<String, Set<String>> contract = Contract.methods();
        Map<String, RoleProbe.Call> calls = RoleProbe.calls();
        assertEquals("the probe calls every contract method", contract.keySet(), new java.util.TreeSet<>(calls.keySet()));
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, Set<String>> e : contract.entrySet()) {
            boolean allowed = e.getValue() != null && e.getValue().contains(role);
            int code = got.getInt(e.getKey());
            if (code == 1) {
                wrong.add(e.getKey() + ": transport failure");
            } else if (allowed == (code == PermdRpcException.PERMISSION_DENIED)) {
                wrong.add(e.getKey() + (allowed ? " refused (code " + code + ") though the contract allows " : " allowed (code " + code + ") though the contract refuses ") + role);
            }
        }
        assertTrue(role + ": " + wrong, wrong.isEmpty());
    }

    @Test(timeout = 120_000)
    public void shellGetsExactlyItsMethods() throws Exception {
        check("shell", probeAs(Daemon.UID_SHELL));
    }

    @Test(timeout = 120_000)
    public void appGetsExactlyItsMethods() throws Exception {
        check("app", probeAs(Daemon.UID_APP));
    }

    @Test(timeout = 120_000)
    public void frameworkGetsExactlyItsMethods() throws Exception {
        check("framework", probeAs(Daemon.UID_FRAMEWORK));
    }

    @Test(timeout = 120_000)
    public void rootGetsEveryMethod() throws Exception {
        try (PermdClient c = daemon.client().build()) {
            JSONObject got = RoleProbe.probe(c);
            got.put("_role", "root");
            check("root", got);
        }
    }
}
