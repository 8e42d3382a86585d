// Explicit transactions and the retry helper on one thread.
#include "support.hpp"

#include <stdexcept>
#include <string>

using graphdb::Params;
using graphdb::Tx;
using graphdb_test::DbTest;

namespace {

class Transactions : public DbTest {
protected:
    std::int64_t count(graphdb::Connection& c) {
        return c.query("MATCH (n:N) RETURN count(n)").scalar<std::int64_t>();
    }
};

TEST_F(Transactions, CommitPublishesToOtherConnections) {
    auto other = db.connect();
    auto tx = conn.begin();
    tx.query("CREATE (:N)");
    EXPECT_EQ(count(conn), 1);   // the transaction sees its own write
    EXPECT_EQ(count(other), 0);  // nobody else does yet
    tx.commit();
    EXPECT_FALSE(tx.active());
    EXPECT_EQ(count(other), 1);
}

TEST_F(Transactions, RollbackDiscards) {
    auto tx = conn.begin();
    tx.query("CREATE (:N)");
    tx.rollback();
    EXPECT_EQ(count(conn), 0);
}

TEST_F(Transactions, DroppedTransactionRollsBack) {
    {
        auto tx = conn.begin();
        tx.query("CREATE (:N)");
    }
    EXPECT_EQ(count(conn), 0);
    auto tx = conn.begin();  // and the connection has no transaction left open
    tx.commit();
}

TEST_F(Transactions, MovedTransactionKeepsOneOwner) {
    auto a = conn.begin();
    a.query("CREATE (:N)");
    graphdb::Transaction b = std::move(a);
    EXPECT_FALSE(a.active());
    EXPECT_THROW(a.commit(), graphdb::TransactionState);
    b.commit();
    EXPECT_EQ(count(conn), 1);
}

TEST_F(Transactions, EndedTransactionRefusesWork) {
    auto tx = conn.begin();
    tx.commit();
    EXPECT_THROW(tx.commit(), graphdb::TransactionState);
    EXPECT_THROW(tx.rollback(), graphdb::TransactionState);
    EXPECT_THROW(tx.query("CREATE (:N)"), graphdb::TransactionState);
    EXPECT_EQ(count(conn), 0);
}

TEST_F(Transactions, BeginTwiceIsTransactionState) {
    auto tx = conn.begin();
    EXPECT_THROW(conn.begin(), graphdb::TransactionState);
}

TEST_F(Transactions, CypherCommitEndsTheHandle) {
    auto tx = conn.begin();
    tx.query("CREATE (:N)");
    conn.query("COMMIT");
    EXPECT_THROW(tx.commit(), graphdb::TransactionState);  // the library's answer
    EXPECT_EQ(count(conn), 1);
}

TEST_F(Transactions, SnapshotIsolationTransactionCommits) {
    auto tx = conn.begin(graphdb::TxMode::ReadWrite, graphdb::Isolation::Snapshot);
    tx.query("CREATE (:N)");
    tx.commit();
    EXPECT_EQ(count(conn), 1);
}

// Two overlapping read-modify-write transactions: the second commit must be a retryable
// Conflict, and its write must be gone.
TEST_F(Transactions, OverlappingWritersConflict) {
    conn.query("CREATE (:C {n: 0})");
    auto other = db.connect();
    auto t1 = conn.begin();
    auto t2 = other.begin();
    auto n1 = t1.query("MATCH (c:C) RETURN c.n").scalar<std::int64_t>();
    auto n2 = t2.query("MATCH (c:C) RETURN c.n").scalar<std::int64_t>();
    t1.query("MATCH (c:C) SET c.n = $n", Params{{"n", n1 + 1}});
    t1.commit();
    try {
        t2.query("MATCH (c:C) SET c.n = $n", Params{{"n", n2 + 10}});
        t2.commit();
        FAIL() << "lost update: both commits succeeded";
    } catch (const graphdb::Error& e) {
        EXPECT_EQ(e.status(), GRAPHDB_CONFLICT) << e.what();
        EXPECT_TRUE(e.is_retryable());
        EXPECT_NE(dynamic_cast<const graphdb::Conflict*>(&e), nullptr);
    }
    EXPECT_EQ(conn.query("MATCH (c:C) RETURN c.n").scalar<std::int64_t>(), 1);
}

TEST_F(Transactions, TransactReturnsTheValueAndCommits) {
    int attempts = 0;
    auto n = conn.transact([&](Tx& tx) {
        ++attempts;
        tx.query("CREATE (:N), (:N)");
        return tx.query("MATCH (n:N) RETURN count(n)").scalar<std::int64_t>();
    });
    EXPECT_EQ(n, 2);
    EXPECT_EQ(attempts, 1);
    EXPECT_EQ(count(conn), 2);
}

struct Boom : std::runtime_error {
    Boom() : std::runtime_error("boom") {}
};

TEST_F(Transactions, TransactRethrowsAUserExceptionAfterRollingBack) {
    int attempts = 0;
    EXPECT_THROW(conn.transact([&](Tx& tx) {
        ++attempts;
        tx.query("CREATE (:N)");
        throw Boom();
    }),
                 Boom);
    EXPECT_EQ(attempts, 1);
    EXPECT_EQ(count(conn), 0);
    conn.transact([](Tx& tx) { tx.query("CREATE (:N)"); });  // the connection is clean
    EXPECT_EQ(count(conn), 1);
}

TEST_F(Transactions, TransactDoesNotRetryOtherLibraryErrors) {
    int attempts = 0;
    EXPECT_THROW(conn.transact([&](Tx& tx) {
        ++attempts;
        tx.query("CREATE (:N)");
        tx.query("RETURN nope");
    }),
                 graphdb::SemanticError);
    EXPECT_EQ(attempts, 1);
    EXPECT_EQ(count(conn), 0);
}

TEST_F(Transactions, ReadOnlyTransactRefusesWrites) {
    EXPECT_THROW(conn.transact([](Tx& tx) { tx.query("CREATE (:N)"); }, graphdb::TxMode::ReadOnly),
                 graphdb::ReadOnlyError);
    auto n = conn.transact([](Tx& tx) { return tx.query("RETURN 41 + 1").scalar<int>(); },
                           graphdb::TxMode::ReadOnly);
    EXPECT_EQ(n, 42);
}

TEST_F(Transactions, PreparedStatementRunsInsideTransact) {
    auto stmt = conn.prepare("CREATE (:N {i: $i})");
    conn.transact([&](Tx& tx) {
        for (int i = 0; i < 3; ++i) tx.execute(stmt, Params{{"i", i}});
    });
    EXPECT_EQ(count(conn), 3);
}

}  // namespace
