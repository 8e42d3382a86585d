package dev.libgraphdb.graphdb;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Open options (see graphdb_options_set for every key). Keys and values are checked by the
 * library when the database opens: an unknown key or value makes {@link Database#open} fail
 * with INVALID_ARGUMENT and the library's message.
 */
public final class Options {
    private final Map<String, String> values;

    private Options(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** The defaults: read_write, create, sync=full, serializable. */
    public static Options defaults() {
        return new Options(Map.of());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Every option set, in the order they were set. */
    public Map<String, String> asMap() {
        return values;
    }

    public enum Sync { FULL, NORMAL, OFF }

    public enum CommitWait { AUTO, SLEEP }

    public static final class Builder {
        private final Map<String, String> values = new LinkedHashMap<>();

        private Builder() {}

        /** Any key and value, passed to the library as they are. */
        public Builder set(String key, String value) {
            if (key == null || value == null) {
                throw new IllegalArgumentException("option key and value must not be null");
            }
            values.put(key, value);
            return this;
        }

        public Builder readOnly(boolean readOnly) {
            return set("access_mode", readOnly ? "read_only" : "read_write");
        }

        public Builder create(boolean create) {
            return set("create", Boolean.toString(create));
        }

        public Builder sync(Sync sync) {
            return set("sync", sync.name().toLowerCase(java.util.Locale.ROOT));
        }

        public Builder busyTimeoutMs(long ms) {
            return set("busy_timeout_ms", Long.toString(ms));
        }

        /** 0: no timeout. */
        public Builder queryTimeoutMs(long ms) {
            return set("query_timeout_ms", Long.toString(ms));
        }

        public Builder isolation(Isolation isolation) {
            if (isolation.optionValue == null) {
                throw new IllegalArgumentException("the isolation option takes SERIALIZABLE or SNAPSHOT");
            }
            return set("isolation", isolation.optionValue);
        }

        public Builder checkpointWalBytes(long bytes) {
            return set("checkpoint_wal_bytes", Long.toString(bytes));
        }

        public Builder bulkCommitEntities(long n) {
            return set("bulk_commit_entities", Long.toString(n));
        }

        public Builder verifyOnOpen(boolean verify) {
            return set("verify_on_open", Boolean.toString(verify));
        }

        public Builder batchThreads(int n) {
            return set("batch_threads", Integer.toString(n));
        }

        public Builder commitWait(CommitWait wait) {
            return set("commit_wait", wait.name().toLowerCase(java.util.Locale.ROOT));
        }

        public Options build() {
            return new Options(values);
        }
    }
}
