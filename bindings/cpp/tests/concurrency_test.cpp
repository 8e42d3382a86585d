// Real concurrency: the retry helper under contention, and interrupt from another thread.
#include "support.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using graphdb::Params;
using graphdb::Tx;
using graphdb_test::DbTest;

namespace {

// Holds every thread until all have arrived (C++17 has no std::barrier). A timeout turns a
// bug into a failure instead of a hang.
class Rendezvous {
public:
    explicit Rendezvous(int n) : left_(n) {}
    bool arrive_and_wait() {
        std::unique_lock<std::mutex> lock(mu_);
        if (--left_ == 0) cv_.notify_all();
        return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return left_ <= 0; });
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    int left_;
};

using Concurrency = DbTest;

// Each thread increments one counter by read (into C++), then write, under the default
// SERIALIZABLE isolation. Every thread's first attempt reads before any of them writes
// (the rendezvous), so at least threads-1 of those attempts must conflict and be retried.
TEST_F(Concurrency, RetryHelperLosesNoUpdate) {
    constexpr int kThreads = 4;
    constexpr int kIncrements = 25;
    conn.query("CREATE (:Counter {n: 0})");

    Rendezvous first_reads(kThreads);
    std::atomic<int> attempts{0};
    std::atomic<int> rendezvous_timeouts{0};
    std::vector<std::thread> threads;
    std::vector<std::exception_ptr> errors(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                auto c = db.connect();  // one connection per thread
                bool first = true;
                for (int i = 0; i < kIncrements; ++i) {
                    c.transact(
                        [&](Tx& tx) {
                            attempts.fetch_add(1);
                            auto n = tx.query("MATCH (k:Counter) RETURN k.n").scalar<std::int64_t>();
                            if (first) {
                                first = false;
                                if (!first_reads.arrive_and_wait()) rendezvous_timeouts.fetch_add(1);
                            }
                            tx.query("MATCH (k:Counter) SET k.n = $n", Params{{"n", n + 1}});
                        },
                        graphdb::TxMode::ReadWrite, 1000);
                }
            } catch (...) {
                errors[t] = std::current_exception();
            }
        });
    }
    for (auto& th : threads) th.join();
    for (auto& e : errors) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                FAIL() << "worker failed: " << ex.what();
            }
        }
    }
    RecordProperty("attempts", attempts.load());
    EXPECT_EQ(rendezvous_timeouts.load(), 0);
    EXPECT_EQ(conn.query("MATCH (k:Counter) RETURN k.n").scalar<std::int64_t>(),
              kThreads * kIncrements);
    EXPECT_GE(attempts.load(), kThreads * kIncrements + kThreads - 1)
        << "conflicting attempts were not retried";
    EXPECT_NE(db.stats_json().find("\"conflicts_"), std::string::npos);
}

// About 1e10 steps, yet never more than a million small rows alive: it cannot finish within
// the test, so an interrupt is the only way out.
constexpr const char* kLongQuery =
    "UNWIND range(1, 1000000) AS a RETURN sum(reduce(s = 0, x IN range(1, 10000) | s + x % 7)) AS c";

// The main thread calls in until it gets Misuse (proof that the worker is inside the long
// query: one thread at a time per connection), then interrupts until the worker returns.
TEST_F(Concurrency, SecondThreadIsMisuseAndInterruptStopsTheQuery) {
    graphdb::Interrupter stop = conn.interrupter();
    std::atomic<bool> finished{false};
    std::exception_ptr outcome;
    std::thread worker([&] {
        for (;;) {
            try {
                conn.query(kLongQuery);
                break;
            } catch (const graphdb::Misuse&) {
                continue;  // the main thread was inside at that moment: try again
            } catch (...) {
                outcome = std::current_exception();
                break;
            }
        }
        finished = true;
    });
    bool misuse_seen = false;
    for (int i = 0; i < 20000 && !misuse_seen && !finished; ++i) {
        try {
            conn.query("RETURN 2");
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        } catch (const graphdb::Misuse&) {
            misuse_seen = true;
        }
    }
    while (!finished) {
        stop.interrupt();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    worker.join();
    EXPECT_TRUE(misuse_seen);
    ASSERT_TRUE(outcome) << "the query finished without being interrupted";
    try {
        std::rethrow_exception(outcome);
    } catch (const graphdb::Error& e) {
        EXPECT_EQ(e.status(), GRAPHDB_INTERRUPTED) << e.what();
        EXPECT_NE(dynamic_cast<const graphdb::Interrupted*>(&e), nullptr);
    }
    EXPECT_EQ(conn.query("RETURN 1").scalar<int>(), 1);  // the connection still works
}

TEST_F(Concurrency, InterrupterOutlivesItsConnection) {
    graphdb::Interrupter stop = conn.interrupter();
    conn.close();
    stop.interrupt();  // does nothing, and does not touch the freed handle
    SUCCEED();
}

}  // namespace
