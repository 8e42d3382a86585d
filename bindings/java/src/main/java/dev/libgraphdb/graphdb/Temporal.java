package dev.libgraphdb.graphdb;

/**
 * A date, time, date-time or duration, as its Cypher string form ({@code 2015-07-21},
 * {@code 12:31:14+01:00}, {@code P1Y2M3D}). As a parameter, any ISO 8601 form the Cypher
 * constructor accepts; the library refuses one that does not parse.
 */
public record Temporal(Kind kind, String text) {
    public Temporal {
        if (kind == null || text == null) {
            throw new IllegalArgumentException("Temporal kind and text must not be null");
        }
    }

    public enum Kind {
        DATE("$date"),
        LOCAL_TIME("$localtime"),
        TIME("$time"),
        LOCAL_DATETIME("$localdatetime"),
        DATETIME("$datetime"),
        DURATION("$duration");

        /** The tag of the JSON form, e.g. {@code {"$date": "2015-07-21"}}. */
        public final String jsonTag;

        Kind(String jsonTag) {
            this.jsonTag = jsonTag;
        }

        static Kind fromTag(String tag) {
            for (Kind k : values()) {
                if (k.jsonTag.equals(tag)) {
                    return k;
                }
            }
            return null;
        }
    }

    public static Temporal date(String text) {
        return new Temporal(Kind.DATE, text);
    }

    public static Temporal duration(String text) {
        return new Temporal(Kind.DURATION, text);
    }
}
