package org.permd.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.Test;

/** ContractCoverageTest: the typed API covers every method of the contract. */
public class ContractCoverageTest {
    @Test
    public void typedApiCoversEveryContractMethod() throws Exception {
        TreeMap<String, Set<String>> contract = Contract.methods();
        assertTrue("contract " + Contract.source() + " lists only " + contract.keySet(), contract.size() >= 25);
        TreeSet<String> missing = new TreeSet<>(contract.keySet());
        missing.removeAll(Contract.typed().keySet());
        if (!missing.isEmpty()) {
            fail("methods of " + Contract.source() + " without a typed PermdClient method: " + missing);
        }
        TreeSet<String> extra = new TreeSet<>(Contract.typed().keySet());
        extra.removeAll(contract.keySet());
        if (!extra.isEmpty()) {
            fail("typed methods for names the contract does not list: " + extra);
        }
    }

    /** The generated contract lists the methods and roles docs/protocol.md documents. */
    @Test
    public void openRpcAgreesWithProtocolMd() throws Exception {
        Path repo = Paths.get(System.getProperty("permd.repo", "."));
        Path rpc = repo.resolve("docs/openrpc.json");
        assertTrue(rpc + " is missing (go test ./framework -run TestOpenRPC -update writes it)", Files.exists(rpc));
        assertTrue("the contract read is " + Contract.source() + ", not " + rpc,
                System.getProperty("permd.contract") != null || Contract.source().equals(rpc));
        TreeMap<String, Set<String>> fromRpc = Contract.fromOpenRpc(
                new String(Files.readAllBytes(rpc), StandardCharsets.UTF_8));
        TreeMap<String, Set<String>> fromMd = Contract.fromProtocolMd(
                new String(Files.readAllBytes(repo.resolve("docs/protocol.md")), StandardCharsets.UTF_8));
        assertEquals("methods of openrpc.json and protocol.md", fromMd.keySet(), fromRpc.keySet());
        for (String name : fromRpc.keySet()) {
            Set<String> roles = fromRpc.get(name);
            assertNotNull(name + " has no x-roles in openrpc.json", roles);
            assertTrue(name + " roles " + roles, !roles.isEmpty() && Contract.ALL_ROLES.containsAll(roles));
            Set<String> documented = fromMd.get(name);
            if (documented != null) {
                assertEquals(name + " roles", new TreeSet<>(documented), new TreeSet<>(roles));
            }
        }
    }

    @Test
    public void protocolMdHeadingsParse() throws Exception {
        TreeMap<String, Set<String>> m = Contract.fromProtocolMd(
                "### perm.check \u2014 framework, root (hot path)\n### sys.version \u2014 all roles\n### app.state\n### Records\n");
        assertTrue(m.toString(), m.get("perm.check").equals(new TreeSet<>(Set.of("framework", "root")))
                || m.get("perm.check").containsAll(Set.of("framework", "root")) && m.get("perm.check").size() == 2);
        assertTrue(m.get("sys.version").containsAll(Contract.ALL_ROLES));
        assertTrue(m.containsKey("app.state") && m.size() == 3);
    }
}
