// graphdb C++ wrapper: internals shared by the handle classes (not part of the API).
#pragma once

#include <graphdb.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "error.hpp"

namespace graphdb::detail {

// unique_ptr deleter calling one of the C free functions (each accepts NULL).
template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const noexcept { Free(p); }
};
template <class T, void (*Free)(T*)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

// The state a Connection shares with its statements, transactions, results and
// interrupters: they outlive the Connection object safely (the C handles are reference
// counted), but only this pointer says whether the graphdb_connection itself still exists.
// `conn` changes only under `mu`, and only from non-NULL to NULL; graphdb_interrupt holds
// `mu` so it never runs on a disconnected handle. The owning thread reads `conn` without
// the lock: it is the only writer.
struct ConnState {
    std::mutex mu;
    graphdb_connection* conn = nullptr;

    explicit ConnState(graphdb_connection* c) noexcept : conn(c) {}
    ConnState(const ConnState&) = delete;
    ConnState& operator=(const ConnState&) = delete;
    ~ConnState() { disconnect(); }

    void disconnect() noexcept {
        graphdb_connection* c;
        {
            std::lock_guard<std::mutex> lock(mu);
            c = conn;
            conn = nullptr;
        }
        // Outside the lock: disconnect waits for a call in progress on another thread, and
        // an interrupt of that call must still get through.
        graphdb_disconnect(c);
    }

    void interrupt() noexcept {
        std::lock_guard<std::mutex> lock(mu);
        if (conn) graphdb_interrupt(conn);
    }
};

// Throws the failure `status` with the details the connection recorded. The message is
// copied first: it is borrowed and the position query is itself a call on the connection.
[[noreturn]] inline void throw_from(const ConnState* state, graphdb_status status) {
    if (state == nullptr || state->conn == nullptr) {
        throw_error(status, std::string(status_name(status)) +
                                ": the connection is closed, so the library kept no message");
    }
    const char* msg = graphdb_connection_error_message(state->conn);
    std::string message = msg ? msg : status_name(status);
    std::size_t line = 0, column = 0;
    if (graphdb_connection_error_position(state->conn, &line, &column) != GRAPHDB_OK) {
        line = column = 0;
    }
    throw_error(status, message, line, column);
}

inline void check(const ConnState* state, graphdb_status status) {
    if (status != GRAPHDB_OK) throw_from(state, status);
}

// The C API takes NUL-terminated text here; an embedded NUL would silently cut it short.
inline std::string c_text(std::string_view s, const char* what) {
    if (s.find('\0') != std::string_view::npos) {
        throw InvalidArgument(std::string(what) + " contains a NUL byte");
    }
    return std::string(s);
}

// Copies and frees an owned string from the library.
inline std::string take_owned(char* s) {
    Handle<char, graphdb_string_free> guard(s);
    return s ? std::string(s) : std::string();
}

}  // namespace graphdb::detail
