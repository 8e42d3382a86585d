package dev.libgraphdb.graphdb;

import java.util.Map;

/**
 * Builds a native graphdb_params from a Java map. Scalars go through the typed setters
 * (strings with their length, so a NUL inside is kept); everything else through the JSON form.
 * The caller frees the returned handle (0 for no parameters) with Native.paramsFree.
 */
final class Params {
    private Params() {}

    static long build(Map<String, ?> params) {
        if (params == null || params.isEmpty()) {
            return 0;
        }
        long p = Native.paramsNew();
        try {
            for (Map.Entry<String, ?> e : params.entrySet()) {
                if (e.getKey() == null) {
                    throw new GraphDbException(Status.INVALID_ARGUMENT, "parameter names must not be null");
                }
                set(p, e.getKey(), e.getValue());
            }
            return p;
        } catch (RuntimeException | Error t) {
            Native.paramsFree(p);
            throw t;
        }
    }

    private static void set(long p, String name, Object v) {
        byte[] n = Utf8.encode(name);
        if (v == null) {
            Native.paramsSetNull(p, n);
        } else if (v instanceof Boolean b) {
            Native.paramsSetBool(p, n, b);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            Native.paramsSetInt64(p, n, ((Number) v).longValue());
        } else if (v instanceof Double || v instanceof Float) {
            Native.paramsSetDouble(p, n, Json.toDouble((Number) v));
        } else if (v instanceof CharSequence || v instanceof Character) {
            Native.paramsSetString(p, n, Utf8.encode(v.toString()));
        } else {
            String json;
            try {
                json = Json.stringify(v);
            } catch (GraphDbException e) {
                throw new GraphDbException(e.status(), "parameter $" + name + ": " + e.getMessage());
            }
            Native.paramsSetJson(p, n, Utf8.encode(json));
        }
    }
}
