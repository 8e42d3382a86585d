// graphdb C++ wrapper: header-only, C++17, over the C API of include/graphdb.h.
//
//   graphdb::Database db("/tmp/people");
//   graphdb::Connection conn = db.connect();          // one per thread
//   conn.query("CREATE (:User {name: $n})", {{"n", "ann"}});
//   for (const auto& row : conn.query("MATCH (u:User) RETURN u.name AS name"))
//       std::cout << row.get<std::string>("name") << "\n";
//
// Handles are move-only and free their C handle exactly once. Failures throw graphdb::Error
// subclasses carrying the graphdb_status (see error.hpp).
#pragma once

#include <graphdb.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "detail.hpp"
#include "error.hpp"
#include "params.hpp"
#include "result.hpp"
#include "value.hpp"

namespace graphdb {

inline std::string version() { return graphdb_version(); }
inline std::uint32_t abi_version() noexcept { return graphdb_abi_version(); }

namespace detail {

inline graphdb_connection* live_conn(const std::shared_ptr<ConnState>& s) {
    if (!s || !s->conn) throw Misuse("the connection is closed");
    return s->conn;
}

inline Result run_query(const std::shared_ptr<ConnState>& s, std::string_view cypher,
                        const graphdb_params* params) {
    graphdb_connection* c = live_conn(s);
    std::string text = c_text(cypher, "query");
    graphdb_result* r = nullptr;
    check(s.get(), graphdb_query(c, text.c_str(), params, &r));
    return Result(s, r);
}

}  // namespace detail

// A parsed statement, run many times with different parameters. It runs on its
// connection (inside that connection's open transaction, if any); after the connection is
// closed execute() throws Misuse.
class Statement {
public:
    Statement(std::shared_ptr<detail::ConnState> state, graphdb_statement* stmt) noexcept
        : s_(std::move(state)), st_(stmt) {}

    Result execute() { return run(nullptr); }
    Result execute(const Params& params) { return run(params.native()); }

    graphdb_statement* native() const noexcept { return st_.get(); }

private:
    Result run(const graphdb_params* params) {
        if (!st_) throw Misuse("the statement was moved from");
        graphdb_result* r = nullptr;
        detail::check(s_.get(), graphdb_execute(st_.get(), params, &r));
        return Result(s_, r);
    }

    std::shared_ptr<detail::ConnState> s_;
    detail::Handle<graphdb_statement, graphdb_statement_free> st_;
};

// An explicit transaction. Queries through it (or through its connection) run inside it
// until commit() or rollback(). Destroyed without either, it rolls back, never throwing.
class Transaction {
public:
    Transaction(std::shared_ptr<detail::ConnState> state, graphdb_transaction* txn) noexcept
        : s_(std::move(state)), t_(txn) {}
    Transaction(Transaction&& o) noexcept : s_(std::move(o.s_)), t_(std::exchange(o.t_, nullptr)) {}
    Transaction& operator=(Transaction&& o) noexcept {
        if (this != &o) {
            graphdb_transaction_free(t_);
            s_ = std::move(o.s_);
            t_ = std::exchange(o.t_, nullptr);
        }
        return *this;
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction() { graphdb_transaction_free(t_); }

    // False once commit() or rollback() was called (the library may also have ended it:
    // Cypher COMMIT, a conflict, disconnect; then commit() throws TransactionState).
    bool active() const noexcept { return t_ != nullptr; }

    Result query(std::string_view cypher) {
        ended_guard();
        return detail::run_query(s_, cypher, nullptr);
    }
    Result query(std::string_view cypher, const Params& params) {
        ended_guard();
        return detail::run_query(s_, cypher, params.native());
    }
    Result execute(Statement& stmt) {
        ended_guard();
        return stmt.execute();
    }
    Result execute(Statement& stmt, const Params& params) {
        ended_guard();
        return stmt.execute(params);
    }

    // Conflict (retryable) means the transaction was rolled back; the handle is gone either way.
    void commit() {
        graphdb_transaction* t = take();
        detail::check(s_.get(), graphdb_commit(t));
    }
    void rollback() {
        graphdb_transaction* t = take();
        detail::check(s_.get(), graphdb_rollback(t));
    }

    graphdb_transaction* native() const noexcept { return t_; }

private:
    // A query after commit would otherwise run silently in auto-commit mode.
    void ended_guard() const {
        if (!t_) throw TransactionState("the transaction has already been committed or rolled back");
    }
    graphdb_transaction* take() {
        ended_guard();
        return std::exchange(t_, nullptr);
    }

    std::shared_ptr<detail::ConnState> s_;
    graphdb_transaction* t_ = nullptr;
};

// What Connection::transact hands its function: runs statements inside the transaction.
// It cannot commit, roll back, begin or close: graphdb_transact owns the transaction.
class Tx {
public:
    explicit Tx(const std::shared_ptr<detail::ConnState>& state) noexcept : s_(state) {}
    Tx(const Tx&) = delete;
    Tx& operator=(const Tx&) = delete;

    Result query(std::string_view cypher) { return detail::run_query(s_, cypher, nullptr); }
    Result query(std::string_view cypher, const Params& params) {
        return detail::run_query(s_, cypher, params.native());
    }
    // `stmt` must come from the same connection.
    Result execute(Statement& stmt) { return stmt.execute(); }
    Result execute(Statement& stmt, const Params& params) { return stmt.execute(params); }

private:
    const std::shared_ptr<detail::ConnState>& s_;
};

// Stops the query running on a connection, from any thread. Copyable; safe to use after
// the connection is closed (it then does nothing).
class Interrupter {
public:
    explicit Interrupter(std::shared_ptr<detail::ConnState> state) noexcept : s_(std::move(state)) {}
    void interrupt() const noexcept {
        if (s_) s_->interrupt();
    }

private:
    std::shared_ptr<detail::ConnState> s_;
};

namespace detail {

// The C callback of graphdb_transact. No exception may cross the C frames: each one is
// stored and becomes a failure status (its own status for a graphdb::Error, so a Conflict
// thrown by a query is retried), and Connection::transact rethrows it after the C call.
template <class F, class R>
struct TransactCall {
    F& fn;
    const std::shared_ptr<ConnState>& state;
    std::exception_ptr error;
    std::optional<R> value;

    static graphdb_status trampoline(graphdb_connection*, void* user) noexcept {
        auto* self = static_cast<TransactCall*>(user);
        self->error = nullptr;  // only the last attempt's failure matters
        self->value.reset();
        try {
            Tx tx(self->state);
            self->value.emplace(self->fn(tx));
            return GRAPHDB_OK;
        } catch (const Error& e) {
            self->error = std::current_exception();
            return e.status() == GRAPHDB_OK ? GRAPHDB_ERROR : e.status();
        } catch (...) {
            self->error = std::current_exception();
            return GRAPHDB_ERROR;
        }
    }
};

struct Unit {};

}  // namespace detail

// A session on a database, used by one thread at a time (another thread calling in at the
// same moment gets Misuse); give each thread its own. Closing rolls back an open
// transaction. Statements, transactions and results made from it stay safe to hold.
class Connection {
public:
    Connection() noexcept = default;  // closed
    explicit Connection(graphdb_connection* c) : s_(std::make_shared<detail::ConnState>(c)) {}
    Connection(Connection&&) noexcept = default;
    Connection& operator=(Connection&& o) noexcept {
        if (this != &o) {
            close();
            s_ = std::move(o.s_);
        }
        return *this;
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() { close(); }

    Result query(std::string_view cypher) { return detail::run_query(s_, cypher, nullptr); }
    Result query(std::string_view cypher, const Params& params) {
        return detail::run_query(s_, cypher, params.native());
    }

    Statement prepare(std::string_view cypher) {
        graphdb_connection* c = detail::live_conn(s_);
        std::string text = detail::c_text(cypher, "query");
        graphdb_statement* st = nullptr;
        detail::check(s_.get(), graphdb_prepare(c, text.c_str(), &st));
        return Statement(s_, st);
    }

    Transaction begin(TxMode mode = TxMode::ReadWrite, Isolation isolation = Isolation::Default) {
        graphdb_connection* c = detail::live_conn(s_);
        graphdb_transaction* t = nullptr;
        detail::check(s_.get(), graphdb_begin_with(c, static_cast<std::uint32_t>(mode),
                                                   static_cast<std::uint32_t>(isolation), &t));
        return Transaction(s_, t);
    }

    // Runs fn(Tx&) in a transaction and commits, rerunning both (with backoff, up to
    // max_attempts in all) while they fail with Conflict. Returns what fn returned on the
    // attempt that committed. Any other exception from fn rolls back and is rethrown as is;
    // a failure of the library throws its Error. fn may run several times: keep its effects
    // outside the database idempotent.
    template <class F>
    auto transact(F&& fn, TxMode mode = TxMode::ReadWrite, std::uint32_t max_attempts = 10)
        -> std::decay_t<std::invoke_result_t<F&, Tx&>> {
        // Returned by value: a reference into the finished transaction would dangle.
        using R = std::decay_t<std::invoke_result_t<F&, Tx&>>;
        if constexpr (std::is_void_v<R>) {
            auto wrapped = [&fn](Tx& tx) {
                fn(tx);
                return detail::Unit{};
            };
            run_transact(wrapped, mode, max_attempts);
        } else {
            return run_transact(fn, mode, max_attempts);
        }
    }

    // Asks the running query to stop (it throws Interrupted). Safe from any thread while the
    // owner is inside a call; to hand to another thread, prefer interrupter().
    void interrupt() const noexcept {
        if (s_) s_->interrupt();
    }
    Interrupter interrupter() const noexcept { return Interrupter(s_); }

    // Idempotent; waits for a call in progress on another thread.
    void close() noexcept {
        if (s_) {
            s_->disconnect();
            s_.reset();
        }
    }
    bool is_open() const noexcept { return s_ && s_->conn; }
    graphdb_connection* native() const noexcept { return s_ ? s_->conn : nullptr; }

private:
    template <class F>
    std::decay_t<std::invoke_result_t<F&, Tx&>> run_transact(F& fn, TxMode mode,
                                                             std::uint32_t max_attempts) {
        using R = std::decay_t<std::invoke_result_t<F&, Tx&>>;
        graphdb_connection* c = detail::live_conn(s_);
        detail::TransactCall<F, R> call{fn, s_, nullptr, std::nullopt};
        graphdb_status st = graphdb_transact(c, static_cast<std::uint32_t>(mode),
                                             &detail::TransactCall<F, R>::trampoline, &call,
                                             max_attempts);
        if (st != GRAPHDB_OK) {
            if (call.error) std::rethrow_exception(call.error);
            detail::throw_from(s_.get(), st);
        }
        return std::move(*call.value);
    }

    std::shared_ptr<detail::ConnState> s_;
};

// Progress of Database::import (see graphdb_import_progress_fn).
struct ImportProgress {
    std::string_view file;  // valid only during the callback
    graphdb_import_phase phase;
    std::uint64_t rows;
    bool done;
};

namespace detail {

template <class F>
struct ImportCall {
    F& fn;
    std::exception_ptr error;

    // Returning nonzero cancels the import, which then reports GRAPHDB_INTERRUPTED.
    static std::int32_t trampoline(void* user, const char* file, graphdb_import_phase phase,
                                   std::uint64_t rows, bool done) noexcept {
        auto* self = static_cast<ImportCall*>(user);
        try {
            return self->fn(ImportProgress{file ? file : "", phase, rows, done}) ? 0 : 1;
        } catch (...) {
            self->error = std::current_exception();
            return 1;
        }
    }
};

}  // namespace detail

// An open database: share it between threads (connect() from each). Connections still
// open keep it alive after close().
class Database {
public:
    // `path` is a directory (created unless Options::create(false)), or ":memory:".
    explicit Database(std::string_view path) { open(path, nullptr); }
    Database(std::string_view path, const Options& options) { open(path, options.native()); }
    static Database in_memory() { return Database(":memory:"); }

    Connection connect() const {
        graphdb_connection* c = nullptr;
        graphdb_status st = graphdb_connect(live(), &c);
        if (st != GRAPHDB_OK) throw_error(st, std::string("graphdb_connect failed: ") + status_name(st));
        // A throwing make_shared must not leak the handle.
        detail::Handle<graphdb_connection, graphdb_disconnect> guard(c);
        Connection conn(c);
        guard.release();
        return conn;
    }

    void checkpoint() const { plain("graphdb_checkpoint", graphdb_checkpoint(live())); }
    // Corrupt on damage (the message only has the status: graphdb_check reports no text;
    // run the Cypher statement CHECK on a connection for the file and offset).
    void check() const { plain("graphdb_check", graphdb_check(live())); }

    std::string stats_json() const {
        char* out = nullptr;
        plain("graphdb_stats_json", graphdb_stats_json(live(), &out));
        return detail::take_owned(out);
    }

    // Bulk CSV import (docs/import.md); returns the stats JSON.
    std::string import(std::string_view spec_json) const {
        std::string spec = detail::c_text(spec_json, "import spec");
        char* stats = nullptr;
        char* err = nullptr;
        graphdb_status st = graphdb_import(live(), spec.c_str(), &stats, &err);
        return import_outcome(st, stats, err);
    }
    // progress(const ImportProgress&) returns true to go on, false to cancel (Interrupted);
    // an exception it throws cancels the import and is rethrown here.
    template <class F>
    std::string import(std::string_view spec_json, F&& progress) const {
        std::string spec = detail::c_text(spec_json, "import spec");
        detail::ImportCall<std::remove_reference_t<F>> call{progress, nullptr};
        char* stats = nullptr;
        char* err = nullptr;
        graphdb_status st = graphdb_import_with_progress(
            live(), spec.c_str(), &detail::ImportCall<std::remove_reference_t<F>>::trampoline,
            &call, &stats, &err);
        if (call.error) {
            import_outcome(GRAPHDB_OK, stats, err);  // frees both
            std::rethrow_exception(call.error);
        }
        return import_outcome(st, stats, err);
    }

    void close() noexcept { db_.reset(); }
    bool is_open() const noexcept { return db_ != nullptr; }
    graphdb_database* native() const noexcept { return db_.get(); }

private:
    void open(std::string_view path, const graphdb_options* opts) {
        std::string p = detail::c_text(path, "database path");
        graphdb_database* db = nullptr;
        char* err = nullptr;
        graphdb_status st = graphdb_open(p.c_str(), opts, &db, &err);
        std::string message = detail::take_owned(err);
        if (st != GRAPHDB_OK) throw_error(st, message.empty() ? status_name(st) : message);
        db_.reset(db);
    }

    graphdb_database* live() const {
        if (!db_) throw Misuse("the database is closed");
        return db_.get();
    }

    static void plain(const char* what, graphdb_status st) {
        if (st != GRAPHDB_OK) throw_error(st, std::string(what) + " failed: " + status_name(st));
    }

    static std::string import_outcome(graphdb_status st, char* stats, char* err) {
        // Both owned strings are guarded before either is copied.
        detail::Handle<char, graphdb_string_free> s(stats), e(err);
        if (st != GRAPHDB_OK) {
            throw_error(st, e ? std::string(e.get())
                              : std::string("graphdb_import failed: ") + status_name(st));
        }
        return s ? std::string(s.get()) : std::string();
    }

    detail::Handle<graphdb_database, graphdb_close> db_;
};

}  // namespace graphdb
