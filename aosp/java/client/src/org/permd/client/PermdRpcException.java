package org.permd.client;

import org.json.JSONObject;

/**
 * PermdRpcException is a JSON-RPC error permd returned: the request
 * reached the daemon and was refused. {@link #code()} is one of the
 * codes in docs/protocol.md (e.g. {@link #PERMISSION_DENIED}).
 */
public class PermdRpcException extends PermdException {
    private static final long serialVersionUID = 1L;

    /** INVALID_PARAMS: a param is wrong; {@link #field()} names it. */
    public static final int INVALID_PARAMS = -32602;
    /** METHOD_NOT_FOUND: the daemon does not know the method. */
    public static final int METHOD_NOT_FOUND = -32601;
    /** PERMISSION_DENIED: the caller's role may not call the method. */
    public static final int PERMISSION_DENIED = -32000;
    /** OVERLOADED: a limit was reached; retry with backoff. */
    public static final int OVERLOADED = -32001;
    /** NOT_FOUND: the named object does not exist. */
    public static final int NOT_FOUND = -32002;
    /** CONFLICT: the request contradicts current state. */
    public static final int CONFLICT = -32003;
    /** UNAVAILABLE: the daemon is stopping or its storage is failing. */
    public static final int UNAVAILABLE = -32004;

    private final int code;
    private final String method;
    private final Object data;

    /** PermdRpcException for method's error reply. */
    public PermdRpcException(String method, int code, String message, Object data) {
        super(method + ": " + message + " (code " + code + ")");
        this.code = code;
        this.method = method;
        this.data = data;
    }

    /** code is the JSON-RPC error code. */
    public int code() {
        return code;
    }

    /** method is the method that failed. */
    public String method() {
        return method;
    }

    /** field is the param at fault for INVALID_PARAMS, else null. */
    public String field() {
        return data instanceof JSONObject ? ((JSONObject) data).optString("field", null) : null;
    }
}
