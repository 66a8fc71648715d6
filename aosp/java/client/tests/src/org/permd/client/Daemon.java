package org.permd.client;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.permd.client.jdk.UnixSocketTransport;

/**
 * Daemon is a real permd process (the binary run-tests.sh built) on a
 * fixture tree: a config dir with the shipped files and a test roles
 * table, a root with packages.list, a data dir that survives restarts.
 */
final class Daemon implements AutoCloseable {
    /** Test uids and the roles the test roles table gives them. */
    static final int UID_FRAMEWORK = 1000;
    static final int UID_SHELL = 2000;
    static final int UID_APP = 10123;
    static final String PKG_CAM = "com.example.cam";
    /** SOCKET_GID owns the socket; other-uid test processes are in it. */
    static final int SOCKET_GID = 3333;

    static final String ROLES = "{\"version\":1,\"roles\":["
            + "{\"uid\":0,\"role\":\"root\"},{\"uid\":1000,\"role\":\"framework\"},"
            + "{\"uid\":1010,\"role\":\"permission_ui\"},{\"uid\":1011,\"role\":\"settings\"},"
            + "{\"uid\":1012,\"role\":\"systemui\"},{\"uid\":2000,\"role\":\"shell\"}],"
            + "\"limits\":{\"idle_timeout\":\"30s\"}}";

    final Path dir;
    final Path socket;
    private Process proc;

    private Daemon(Path dir) {
        this.dir = dir;
        this.socket = dir.resolve("permd.sock");
    }

    /** start makes a fixture tree and starts permd on it. */
    static Daemon start(String name) throws Exception {
        return start(name, java.util.Map.of());
    }

    /** start with some config files replaced (name to content). */
    static Daemon start(String name, java.util.Map<String, String> config) throws Exception {
        // Under Soong (atest) there is no permd binary: those tests skip.
        // run-tests.sh always builds one and sets permd.bin.
        org.junit.Assume.assumeTrue("needs -Dpermd.bin (aosp/java/run-tests.sh builds permd)",
                System.getProperty("permd.bin") != null);
        Path base = Paths.get(System.getProperty("permd.tmp", System.getProperty("java.io.tmpdir")));
        Path dir = Files.createTempDirectory(base, name + "-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path cfg = Files.createDirectories(dir.resolve("config"));
        Path shipped = Paths.get(System.getProperty("permd.repo", ".")).resolve("aosp/etc/permd");
        try (var files = Files.list(shipped)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, cfg.resolve(f.getFileName()));
                }
            }
        }
        Files.write(cfg.resolve("permd.json"), ROLES.getBytes(StandardCharsets.UTF_8));
        for (java.util.Map.Entry<String, String> e : config.entrySet()) {
            Files.write(cfg.resolve(e.getKey()), e.getValue().getBytes(StandardCharsets.UTF_8));
        }
        Path sys = Files.createDirectories(dir.resolve("root/data/system"));
        Files.write(sys.resolve("packages.list"), (PKG_CAM + " " + UID_APP
                + " 0 /data/user/0/com.example.cam default:targetSdkVersion=34 3003 0 1 1 @null\n"
                + "com.example.maps 10124 0 /data/user/0/com.example.maps default:targetSdkVersion=34 3003 0 1 1 @null\n")
                .getBytes(StandardCharsets.UTF_8));
        Daemon d = new Daemon(dir);
        d.launch();
        return d;
    }

    /** launch starts the process and waits until the socket answers. */
    void launch() throws Exception {
        Files.deleteIfExists(socket);
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("permd.bin", "bin/permd"));
        cmd.add("--root=" + dir.resolve("root"));
        cmd.add("--data-dir=" + dir.resolve("data"));
        cmd.add("--config-dir=" + dir.resolve("config"));
        cmd.add("--socket=" + socket);
        cmd.add("--log-level=warn");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectErrorStream(true);
        pb.redirectOutput(dir.resolve("permd.log").toFile());
        proc = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (!proc.isAlive()) {
                throw new IOException("permd exited with " + proc.exitValue() + ": " + log());
            }
            try {
                new UnixSocketTransport(socket).connect().close();
                // As init's `socket permd stream 0660 system system`: only
                // the socket's group may connect; other-uid tests join it.
                Files.setAttribute(socket, "unix:gid", SOCKET_GID);
                return;
            } catch (IOException e) {
                Thread.sleep(20);
            }
        }
        throw new IOException("permd did not listen within 20 s: " + log());
    }

    /** kill sends SIGKILL and waits for the process to die. */
    void kill() throws Exception {
        proc.destroyForcibly(); // SIGKILL on Linux
        if (!proc.waitFor(10, TimeUnit.SECONDS)) {
            throw new IOException("permd survived SIGKILL");
        }
    }

    String log() throws IOException {
        File f = dir.resolve("permd.log").toFile();
        return f.exists() ? new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8) : "";
    }

    /** client builds a client on this daemon with short test timeouts. */
    PermdClient.Builder client() {
        return new PermdClient.Builder(new UnixSocketTransport(socket)).callTimeoutMs(10_000).backoffMs(20, 500);
    }

    @Override
    public void close() throws Exception {
        if (proc != null && proc.isAlive()) {
            proc.destroy();
            if (!proc.waitFor(10, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
            }
        }
    }
}
