// Failures arrive as the right exception class with the library's status and message.
#include "support.hpp"

#include <string>

using graphdb::Params;
using graphdb_test::DbTest;
using graphdb_test::TempDir;

namespace {

using Errors = DbTest;

TEST_F(Errors, SyntaxErrorCarriesLineAndColumn) {
    try {
        conn.query("RETURN 1 +\n  RETURN 2");
        FAIL() << "no exception";
    } catch (const graphdb::SyntaxError& e) {
        EXPECT_EQ(e.status(), GRAPHDB_SYNTAX_ERROR);
        EXPECT_EQ(e.line(), 2u);
        EXPECT_EQ(e.column(), 3u);
        EXPECT_NE(std::string(e.what()).find("RETURN"), std::string::npos) << e.what();
        EXPECT_FALSE(e.is_retryable());
    }
}

TEST_F(Errors, SemanticErrorNamesTheVariable) {
    try {
        conn.query("RETURN nope");
        FAIL() << "no exception";
    } catch (const graphdb::SemanticError& e) {
        EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos) << e.what();
        EXPECT_EQ(e.line(), 1u);  // a semantic error has a position too
    }
}

TEST_F(Errors, ConstraintViolationLeavesTheFirstNode) {
    conn.query("CREATE CONSTRAINT FOR (u:User) REQUIRE u.name IS UNIQUE");
    conn.query("CREATE (:User {name: 'ann'})");
    EXPECT_THROW(conn.query("CREATE (:User {name: 'ann'})"), graphdb::ConstraintViolation);
    EXPECT_EQ(conn.query("MATCH (u:User) RETURN count(u)").scalar<std::int64_t>(), 1);
}

TEST_F(Errors, ReadOnlyTransactionRefusesWrites) {
    auto tx = conn.begin(graphdb::TxMode::ReadOnly);
    EXPECT_EQ(tx.query("RETURN 1").scalar<int>(), 1);
    EXPECT_THROW(tx.query("CREATE (:X)"), graphdb::ReadOnlyError);
}

TEST(ErrorsNoFixture, ReadOnlyDatabaseRefusesWrites) {
    TempDir dir;
    {
        graphdb::Database db(dir.db_path());
        db.connect().query("CREATE (:X)");
    }
    graphdb::Database db(dir.db_path(), graphdb::Options().read_only());
    auto conn = db.connect();
    EXPECT_EQ(conn.query("MATCH (x:X) RETURN count(x)").scalar<std::int64_t>(), 1);
    EXPECT_THROW(conn.query("CREATE (:X)"), graphdb::ReadOnlyError);
    EXPECT_THROW(db.checkpoint(), graphdb::ReadOnlyError);
}

TEST_F(Errors, WrongGetterIsTypeErrorWithTheLibraryMessage) {
    auto r = conn.query("RETURN 'text' AS s, 1 AS i");
    ASSERT_TRUE(r.next());
    try {
        r.get<std::int64_t>(0);
        FAIL() << "no exception";
    } catch (const graphdb::TypeError& e) {
        EXPECT_EQ(e.status(), GRAPHDB_TYPE_ERROR);
        EXPECT_NE(std::string(e.what()).find("STRING"), std::string::npos) << e.what();
    }
    EXPECT_THROW(r.get<double>(1), graphdb::TypeError);  // no int to double conversion
    EXPECT_THROW(r.get<std::int64_t>(7), graphdb::InvalidArgument);
}

TEST_F(Errors, GetterWithoutACurrentRowIsMisuse) {
    auto r = conn.query("RETURN 1");
    EXPECT_THROW(r.get<std::int64_t>(0), graphdb::Misuse);
    ASSERT_TRUE(r.next());
    ASSERT_FALSE(r.next());
    EXPECT_THROW(r.get<std::int64_t>(0), graphdb::Misuse);
    EXPECT_FALSE(r.next());
}

TEST_F(Errors, RuntimeTypeErrorInCypher) {
    EXPECT_THROW(conn.query("RETURN 1 + $s", Params{{"s", true}}), graphdb::TypeError);
}

TEST_F(Errors, BadTextIsInvalidArgument) {
    try {
        Params().set("p", std::string_view("\xff\xfe", 2));
        FAIL() << "no exception";
    } catch (const graphdb::InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos) << e.what();
    }
    EXPECT_THROW(conn.query(std::string("RETURN 1\0 garbage", 17)), graphdb::InvalidArgument);
    EXPECT_THROW(Params().set(std::string("a\0b", 3), 1), graphdb::InvalidArgument);
    EXPECT_THROW(graphdb::Options().set("no_such_option", "1"), graphdb::InvalidArgument);
    EXPECT_THROW(graphdb::Options().set("sync", "sometimes"), graphdb::InvalidArgument);
}

TEST(ErrorsNoFixture, OpeningAMissingDatabaseWithoutCreateFails) {
    TempDir dir;
    try {
        graphdb::Database db(dir.db_path(), graphdb::Options().create(false));
        FAIL() << "opened a database that does not exist";
    } catch (const graphdb::Error& e) {
        EXPECT_NE(e.status(), GRAPHDB_OK);
        EXPECT_STRNE(e.what(), "");
    }
}

}  // namespace
