package dev.libgraphdb.graphdb;

import java.util.List;
import java.util.Map;

/** A node read from a result. Nodes cannot be query parameters (pass the id instead). */
public record Node(long id, List<String> labels, Map<String, Object> properties) {
    public Node {
        labels = List.copyOf(labels);
        properties = Values.unmodifiable(properties);
    }
}
