// Handle lifetimes: persistence, maintenance calls, close, move and use after close.
#include "support.hpp"

#include <fstream>
#include <stdexcept>

using graphdb::Params;
using graphdb_test::DbTest;
using graphdb_test::TempDir;

namespace {

TEST(Lifecycle, ReopenedDatabaseKeepsCommittedData) {
    TempDir dir;
    {
        graphdb::Database db(dir.db_path());
        auto conn = db.connect();
        conn.query("CREATE (:P {name: $n})", Params{{"n", "kept"}});
        auto tx = conn.begin();
        tx.query("CREATE (:P {name: 'dropped'})");
    }  // tx rolled back, then conn and db closed, in that order
    graphdb::Database db(dir.db_path());
    auto conn = db.connect();
    auto r = conn.query("MATCH (p:P) RETURN p.name AS name");
    ASSERT_TRUE(r.next());
    EXPECT_EQ(r.row().get<std::string>("name"), "kept");
    EXPECT_FALSE(r.next());
}

TEST(Lifecycle, CheckpointCheckAndStats) {
    TempDir dir;
    {
        graphdb::Database db(dir.db_path());
        db.connect().query("UNWIND range(1, 100) AS i CREATE (:N {i: i})");
        db.checkpoint();
        db.check();
        auto stats = db.stats_json();
        EXPECT_EQ(stats.front(), '{');
        EXPECT_NE(stats.find("\"commits\":1"), std::string::npos) << stats;
    }
    graphdb::Database db(dir.db_path(), graphdb::Options().set("verify_on_open", true));
    db.check();
    EXPECT_EQ(db.connect().query("MATCH (n:N) RETURN sum(n.i)").scalar<std::int64_t>(), 5050);
}

TEST(Lifecycle, UseAfterCloseIsMisuseAndDoubleCloseIsHarmless) {
    auto db = graphdb::Database::in_memory();
    auto conn = db.connect();
    conn.close();
    conn.close();
    EXPECT_FALSE(conn.is_open());
    EXPECT_THROW(conn.query("RETURN 1"), graphdb::Misuse);
    EXPECT_THROW(conn.prepare("RETURN 1"), graphdb::Misuse);
    EXPECT_THROW(conn.begin(), graphdb::Misuse);
    EXPECT_THROW(conn.transact([](graphdb::Tx&) {}), graphdb::Misuse);
    db.close();
    db.close();
    EXPECT_THROW(db.connect(), graphdb::Misuse);
    EXPECT_THROW(db.stats_json(), graphdb::Misuse);
}

TEST(Lifecycle, ConnectionsKeepAClosedDatabaseAlive) {
    auto db = graphdb::Database::in_memory();
    auto conn = db.connect();
    db.close();
    conn.query("CREATE (:N)");
    EXPECT_EQ(conn.query("MATCH (n) RETURN count(n)").scalar<std::int64_t>(), 1);
}

TEST(Lifecycle, HandlesMadeFromAConnectionOutliveIt) {
    auto db = graphdb::Database::in_memory();
    auto conn = db.connect();
    auto result = conn.query("UNWIND [1, 2] AS x RETURN x");
    auto stmt = conn.prepare("RETURN 1");
    auto tx = conn.begin();
    conn.close();
    ASSERT_TRUE(result.next());  // results stay readable
    EXPECT_EQ(result.get<std::int64_t>(0), 1);
    EXPECT_THROW(stmt.execute(), graphdb::Misuse);  // statements refuse to run
    EXPECT_THROW(tx.query("RETURN 1"), graphdb::Misuse);
    EXPECT_THROW(tx.commit(), graphdb::TransactionState);  // disconnect ended it
}

TEST(Lifecycle, MovedFromHandlesAreEmpty) {
    auto db = graphdb::Database::in_memory();
    graphdb::Database db2 = std::move(db);
    EXPECT_FALSE(db.is_open());
    auto a = db2.connect();
    graphdb::Connection b = std::move(a);
    EXPECT_THROW(a.query("RETURN 1"), graphdb::Misuse);
    EXPECT_EQ(b.query("RETURN 1").scalar<int>(), 1);
    a = std::move(b);  // assignment into a closed connection
    EXPECT_EQ(a.query("RETURN 2").scalar<int>(), 2);
    auto r1 = a.query("RETURN 3");
    auto r2 = std::move(r1);
    EXPECT_THROW(r1.next(), graphdb::Misuse);
    EXPECT_EQ(r2.scalar<int>(), 3);
}

TEST(Lifecycle, CsvImportAndACancellingProgressCallback) {
    TempDir dir;
    const auto csv = (dir.path() / "users.csv").string();
    std::ofstream(csv) << "id:ID,name,age:int\n1,ann,31\n2,bob,42\n";
    const std::string spec =
        R"({"nodes": [{"file": ")" + csv + R"(", "labels": ["User"]}], "id_type": "int"})";
    graphdb::Database db(dir.db_path());

    // An exception in the callback must not cross the C frames: it cancels the import and
    // comes back out of import().
    EXPECT_THROW(db.import(spec, [](const graphdb::ImportProgress&) -> bool {
        throw std::logic_error("stop");
    }),
                 std::logic_error);
    auto conn = db.connect();
    EXPECT_EQ(conn.query("MATCH (u:User) RETURN count(u)").scalar<std::int64_t>(), 0);

    std::uint64_t reported = 0;
    auto stats = db.import(spec, [&](const graphdb::ImportProgress& p) {
        if (p.done) reported = p.rows;
        return true;
    });
    EXPECT_EQ(reported, 2u);
    EXPECT_NE(stats.find("\"nodes\":2"), std::string::npos) << stats;
    EXPECT_EQ(conn.query("MATCH (u:User) RETURN sum(u.age)").scalar<std::int64_t>(), 73);

    EXPECT_THROW(db.import(R"({"nodes": [{"file": "/no/such.csv", "labels": ["X"]}]})"),
                 graphdb::InvalidArgument);
}

}  // namespace
