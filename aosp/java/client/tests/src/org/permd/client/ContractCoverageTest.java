package org.permd.client;

import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

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
