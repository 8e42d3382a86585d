package dev.libgraphdb.graphdb;

import java.util.Map;

/** A relationship read from a result: {@code start} and {@code end} are node ids. */
public record Relationship(long id, String type, long start, long end, Map<String, Object> properties) {
    public Relationship {
        properties = Values.unmodifiable(properties);
    }
}
