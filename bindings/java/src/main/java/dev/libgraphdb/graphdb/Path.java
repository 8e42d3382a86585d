package dev.libgraphdb.graphdb;

import java.util.List;

/** A path: one more node than relationships, in walking order. */
public record Path(List<Node> nodes, List<Relationship> relationships) {
    public Path {
        nodes = List.copyOf(nodes);
        relationships = List.copyOf(relationships);
        if (nodes.size() != relationships.size() + 1) {
            throw new IllegalArgumentException("a path has one more node than relationships");
        }
    }

    /** The number of relationships. */
    public int length() {
        return relationships.size();
    }
}
