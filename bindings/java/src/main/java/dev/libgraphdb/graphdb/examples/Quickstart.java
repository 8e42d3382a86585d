package dev.libgraphdb.graphdb.examples;

import dev.libgraphdb.graphdb.Connection;
import dev.libgraphdb.graphdb.Database;
import dev.libgraphdb.graphdb.Options;
import dev.libgraphdb.graphdb.Record;
import dev.libgraphdb.graphdb.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The README's example, run by test.sh: open, write, read, retry a transaction. */
public final class Quickstart {
    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("graphdb-quickstart");
        try (Database db = Database.open(dir, Options.builder().sync(Options.Sync.NORMAL).build());
             Connection conn = db.connect()) {
            try (Result r = conn.query("UNWIND $names AS name CREATE (:Person {name: name})",
                    Map.of("names", List.of("Ada", "Grace", "Barbara")))) {
                System.out.println("created " + r.nodesCreated() + " nodes");
            }
            conn.transact(c -> {
                c.query("MATCH (a:Person {name: 'Ada'}), (g:Person {name: 'Grace'}) CREATE (a)-[:KNOWS]->(g)").close();
                return null;
            });
            try (Result r = conn.query("MATCH (p:Person) RETURN p.name AS name ORDER BY name")) {
                for (Record row : r) {
                    System.out.println(row.getString("name"));
                }
            }
        }
    }
}
