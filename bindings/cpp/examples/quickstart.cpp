// The C++ quickstart: open a database, write in a retried transaction, read typed rows.
// Usage: quickstart <database directory> (recreated on each run).
#include <graphdb/graphdb.hpp>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: quickstart <database directory>\n";
        return 2;
    }
    std::filesystem::remove_all(argv[1]);
    try {
        graphdb::Database db(argv[1], graphdb::Options().sync("normal"));
        graphdb::Connection conn = db.connect();

        conn.transact([](graphdb::Tx& tx) {
            tx.query("CREATE (a:User {name: $a})-[:FOLLOWS {since: 2020}]->(b:User {name: $b})",
                     {{"a", "ann"}, {"b", "bob"}});
        });

        int rows = 0;
        for (const auto& row : conn.query(
                 "MATCH (a:User)-[f:FOLLOWS]->(b:User) RETURN a.name AS a, b.name AS b, f.since AS since")) {
            std::cout << row.get<std::string>("a") << " follows " << row.get<std::string>("b")
                      << " since " << row.get<std::int64_t>("since") << "\n";
            ++rows;
        }
        if (rows != 1) {
            std::cerr << "expected one row, got " << rows << "\n";
            return 1;
        }
    } catch (const graphdb::Error& e) {
        std::cerr << "graphdb error " << e.status_name() << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
