package org.permd.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.function.Function;
import org.json.JSONObject;
import org.junit.After;
import org.junit.Test;
import org.permd.client.jdk.UnixSocketTransport;

/**
 * FakeServerTest talks to a fake server that answers each request line
 * with a scripted, broken reply: the client must fail the call with a
 * clear exception and never hang (every test has a timeout).
 */
public class FakeServerTest {
    private ServerSocketChannel server;
    private Thread thread;
    private Path dir;

    /**
     * serve answers each request line with reply(request): "" sends
     * nothing, a reply without a final newline is sent and the server
     * hangs up, null hangs up at once.
     */
    private Path serve(Function<JSONObject, String> reply) throws IOException {
        dir = Files.createTempDirectory(Paths.get(System.getProperty("permd.tmp", "/tmp")), "fake-");
        Path sock = dir.resolve("fake.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(sock));
        thread = new Thread(() -> {
            try {
                while (true) {
                    SocketChannel c = server.accept();
                    new Thread(() -> handle(c, reply)).start();
                }
            } catch (IOException e) {
                // Closed by the test.
            }
        });
        thread.setDaemon(true);
        thread.start();
        return sock;
    }

    private static void handle(SocketChannel c, Function<JSONObject, String> reply) {
        try (c) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            StringBuilder line = new StringBuilder();
            while (c.read(buf) >= 0) {
                buf.flip();
                line.append(StandardCharsets.UTF_8.decode(buf));
                buf.clear();
                int nl;
                while ((nl = line.indexOf("\n")) >= 0) {
                    JSONObject req = new JSONObject(line.substring(0, nl));
                    line.delete(0, nl + 1);
                    String out = reply.apply(req);
                    if (out == null) {
                        return;
                    }
                    c.write(ByteBuffer.wrap(out.getBytes(StandardCharsets.UTF_8)));
                    if (!out.isEmpty() && !out.endsWith("\n")) {
                        return; // a truncated line: hang up after it
                    }
                }
            }
        } catch (Exception e) {
            // The client went away.
        }
    }

    @After
    public void tearDown() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    private PermdClient client(Path sock, long timeoutMs) {
        return new PermdClient.Builder(new UnixSocketTransport(sock)).callTimeoutMs(timeoutMs).build();
    }

    private static <T extends Exception> T expect(Class<T> type, String contains, ThrowingCall call) {
        try {
            call.run();
        } catch (Exception e) {
            if (!type.isInstance(e)) {
                throw new AssertionError("want " + type.getSimpleName() + ", got " + e, e);
            }
            if (!e.getMessage().contains(contains)) {
                throw new AssertionError("message \"" + e.getMessage() + "\" does not say \"" + contains + "\"");
            }
            return type.cast(e);
        }
        fail("want " + type.getSimpleName() + " saying " + contains + ", got a result");
        return null;
    }

    interface ThrowingCall {
        void run() throws Exception;
    }

    @Test(timeout = 10_000)
    public void notJsonIsAProtocolError() throws Exception {
        Path s = serve(req -> "this is not json\n");
        try (PermdClient c = client(s, 5_000)) {
            expect(PermdProtocolException.class, "malformed line", () -> c.sysVersion());
        }
    }

    @Test(timeout = 10_000)
    public void truncatedReplyIsAProtocolError() throws Exception {
        Path s = serve(req -> {
            return "{\"jsonrpc\":\"2.0\",\"id\":" + req.optLong("id") + ",\"result\":{\"vers";
        });
        // The fake writes half a line and hangs up.
        try (PermdClient c = client(s, 5_000)) {
            expect(PermdProtocolException.class, "middle of a reply", () -> c.sysVersion());
        }
    }

    @Test(timeout = 10_000)
    public void replyWithoutResultOrErrorIsAProtocolError() throws Exception {
        Path s = serve(req -> "{\"jsonrpc\":\"2.0\",\"id\":" + req.optLong("id") + "}\n");
        try (PermdClient c = client(s, 5_000)) {
            expect(PermdProtocolException.class, "neither result nor error", () -> c.sysVersion());
        }
    }

    @Test(timeout = 10_000)
    public void replyForUnknownIdIsAProtocolError() throws Exception {
        Path s = serve(req -> "{\"jsonrpc\":\"2.0\",\"id\":999999,\"result\":{}}\n");
        try (PermdClient c = client(s, 5_000)) {
            expect(PermdProtocolException.class, "unknown id", () -> c.sysVersion());
        }
    }

    @Test(timeout = 10_000)
    public void malformedErrorObjectIsAProtocolError() throws Exception {
        Path s = serve(req -> "{\"jsonrpc\":\"2.0\",\"id\":" + req.optLong("id") + ",\"error\":\"boom\"}\n");
        try (PermdClient c = client(s, 5_000)) {
            expect(PermdProtocolException.class, "malformed error object", () -> c.sysVersion());
        }
    }

    @Test(timeout = 10_000)
    public void wrongResultTypeIsAProtocolError() throws Exception {
        Path s = serve(req -> "{\"jsonrpc\":\"2.0\",\"id\":" + req.optLong("id") + ",\"result\":42}\n");
        try (PermdClient c = client(s, 5_000)) {
            expect(PermdProtocolException.class, "expected a JSON object", () -> c.sysVersion());
        }
    }

    @Test(timeout = 10_000)
    public void silentServerTimesOut() throws Exception {
        Path s = serve(req -> "");
        try (PermdClient c = client(s, 300)) {
            expect(PermdTimeoutException.class, "no reply within 300 ms", () -> c.sysVersion());
        }
    }

    @Test(timeout = 10_000)
    public void errorReplyCarriesCodeAndField() throws Exception {
        Path s = serve(req -> "{\"jsonrpc\":\"2.0\",\"id\":" + req.optLong("id")
                + ",\"error\":{\"code\":-32602,\"message\":\"uid: missing\",\"data\":{\"field\":\"uid\"}}}\n");
        try (PermdClient c = client(s, 5_000)) {
            PermdRpcException e = expect(PermdRpcException.class, "uid: missing", () -> c.permCheck(1, "a.b", "camera", null, null));
            assertEquals(PermdRpcException.INVALID_PARAMS, e.code());
            assertEquals("uid", e.field());
        }
    }

    @Test(timeout = 10_000)
    public void checkFailsClosedWhenPermdIsUnreachableUnlessOptedOut() throws Exception {
        Path nowhere = Paths.get(System.getProperty("permd.tmp", "/tmp"), "no-such-permd.sock");
        try (PermdClient c = new PermdClient.Builder(new UnixSocketTransport(nowhere)).build()) {
            CheckResult r = c.permCheck(10123, "com.example.cam", "camera", null, "foreground");
            assertFalse("fail-closed check allowed", r.allowed());
            assertEquals("denied", r.result());
            assertEquals(CheckResult.REASON_UNAVAILABLE, r.reason());
            expect(PermdUnavailableException.class, "cannot connect", () -> c.sysVersion());
        }
        try (PermdClient c = new PermdClient.Builder(new UnixSocketTransport(nowhere)).failOpen(true).build()) {
            CheckResult r = c.permCheck(10123, "com.example.cam", "camera", null, "foreground");
            assertTrue("fail-open check denied", r.allowed());
            assertEquals(CheckResult.REASON_UNAVAILABLE, r.reason());
        }
    }

    @Test(timeout = 10_000)
    public void handEncodedCheckRequestIsValidJson() throws Exception {
        JSONObject[] seen = new JSONObject[1];
        Path s = serve(req -> {
            synchronized (seen) {
                seen[0] = req;
            }
            return "{\"jsonrpc\":\"2.0\",\"id\":" + req.optLong("id") + ",\"result\":{\"allowed\":false,\"result\":\"denied\",\"reason\":\"no_grant\",\"remaining\":-1}}\n";
        });
        try (PermdClient c = client(s, 5_000)) {
            String odd = "a\"b\\c\n\u2028";
            CheckResult r = c.permCheck(10123, odd, "camera", null, "foreground");
            assertEquals("no_grant", r.reason());
            JSONObject req;
            synchronized (seen) {
                req = seen[0];
            }
            assertEquals("2.0", req.getString("jsonrpc"));
            assertEquals("perm.check", req.getString("method"));
            JSONObject p = req.getJSONObject("params");
            assertEquals(10123, p.getInt("uid"));
            assertEquals(odd, p.getString("package"));
            assertEquals("camera", p.getString("category"));
            assertEquals("foreground", p.getString("state"));
            assertFalse("absent op was sent", p.has("op"));
        }
    }

    @Test(timeout = 10_000)
    public void goodCallsStillWorkAfterABrokenConnection() throws Exception {
        int[] n = {0};
        Path s = serve(req -> {
            synchronized (n) {
                n[0]++;
                if (n[0] == 1) {
                    return "garbage\n";
                }
            }
            return "{\"jsonrpc\":\"2.0\",\"id\":" + req.optLong("id") + ",\"result\":{\"protocol\":1}}\n";
        });
        try (PermdClient c = client(s, 5_000)) {
            expect(PermdProtocolException.class, "malformed line", () -> c.sysVersion());
            assertEquals(1, c.sysVersion().json().getInt("protocol"));
        }
    }
}
