package org.permd.client;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * RpcMethod marks the typed method that calls one protocol method, so a
 * test can check that the typed API covers the whole contract.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface RpcMethod {
    /** value is the protocol method name, e.g. "perm.check". */
    String value();
}
