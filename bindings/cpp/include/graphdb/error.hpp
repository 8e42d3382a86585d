// graphdb C++ wrapper: the exception hierarchy. Every failure of the C API becomes a
// graphdb::Error carrying its graphdb_status; each status has its own subclass so callers
// can catch exactly what they handle (SyntaxError, Conflict, Interrupted, ...).
#pragma once

#include <graphdb.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace graphdb {

// The name of a status as written in the C header, without the GRAPHDB_ prefix.
inline const char* status_name(graphdb_status status) noexcept {
    switch (status) {
        case GRAPHDB_OK: return "OK";
        case GRAPHDB_ERROR: return "ERROR";
        case GRAPHDB_SYNTAX_ERROR: return "SYNTAX_ERROR";
        case GRAPHDB_SEMANTIC_ERROR: return "SEMANTIC_ERROR";
        case GRAPHDB_TYPE_ERROR: return "TYPE_ERROR";
        case GRAPHDB_CONSTRAINT_VIOLATION: return "CONSTRAINT_VIOLATION";
        case GRAPHDB_CONFLICT: return "CONFLICT";
        case GRAPHDB_LOCKED: return "LOCKED";
        case GRAPHDB_BUSY: return "BUSY";
        case GRAPHDB_READ_ONLY: return "READ_ONLY";
        case GRAPHDB_TRANSACTION_STATE: return "TRANSACTION_STATE";
        case GRAPHDB_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
        case GRAPHDB_MISUSE: return "MISUSE";
        case GRAPHDB_INTERRUPTED: return "INTERRUPTED";
        case GRAPHDB_IO_ERROR: return "IO_ERROR";
        case GRAPHDB_CORRUPT: return "CORRUPT";
        case GRAPHDB_INTERNAL: return "INTERNAL";
    }
    return "UNKNOWN";
}

// A failed call. what() is the library's one-sentence message; line() and column() are the
// 1-based position of a syntax error, 0 when the failure has none.
class Error : public std::runtime_error {
public:
    Error(graphdb_status status, const std::string& message, std::size_t line = 0,
          std::size_t column = 0)
        : std::runtime_error(message), status_(status), line_(line), column_(column) {}

    graphdb_status status() const noexcept { return status_; }
    const char* status_name() const noexcept { return graphdb::status_name(status_); }
    std::size_t line() const noexcept { return line_; }
    std::size_t column() const noexcept { return column_; }

    // A conflict rolled the transaction back; running the whole transaction again may succeed.
    // Connection::transact does exactly that.
    bool is_retryable() const noexcept { return status_ == GRAPHDB_CONFLICT; }

private:
    graphdb_status status_;
    std::size_t line_;
    std::size_t column_;
};

// One subclass per status, so `catch (const graphdb::Conflict&)` works.
template <graphdb_status S>
class StatusError : public Error {
public:
    static constexpr graphdb_status kStatus = S;
    explicit StatusError(const std::string& message, std::size_t line = 0, std::size_t column = 0)
        : Error(S, message, line, column) {}
};

using GeneralError = StatusError<GRAPHDB_ERROR>;
using SyntaxError = StatusError<GRAPHDB_SYNTAX_ERROR>;
using SemanticError = StatusError<GRAPHDB_SEMANTIC_ERROR>;
using TypeError = StatusError<GRAPHDB_TYPE_ERROR>;
using ConstraintViolation = StatusError<GRAPHDB_CONSTRAINT_VIOLATION>;
using Conflict = StatusError<GRAPHDB_CONFLICT>;
using Locked = StatusError<GRAPHDB_LOCKED>;
using Busy = StatusError<GRAPHDB_BUSY>;
using ReadOnlyError = StatusError<GRAPHDB_READ_ONLY>;
using TransactionState = StatusError<GRAPHDB_TRANSACTION_STATE>;
using InvalidArgument = StatusError<GRAPHDB_INVALID_ARGUMENT>;
using Misuse = StatusError<GRAPHDB_MISUSE>;
using Interrupted = StatusError<GRAPHDB_INTERRUPTED>;
using IoError = StatusError<GRAPHDB_IO_ERROR>;
using Corrupt = StatusError<GRAPHDB_CORRUPT>;
using Internal = StatusError<GRAPHDB_INTERNAL>;

// Throws the subclass matching `status` (a GRAPHDB_OK or unknown status becomes GeneralError:
// it only reaches here when something reported failure without a status of its own).
[[noreturn]] inline void throw_error(graphdb_status status, const std::string& message,
                                     std::size_t line = 0, std::size_t column = 0) {
    switch (status) {
        case GRAPHDB_SYNTAX_ERROR: throw SyntaxError(message, line, column);
        case GRAPHDB_SEMANTIC_ERROR: throw SemanticError(message, line, column);
        case GRAPHDB_TYPE_ERROR: throw TypeError(message, line, column);
        case GRAPHDB_CONSTRAINT_VIOLATION: throw ConstraintViolation(message, line, column);
        case GRAPHDB_CONFLICT: throw Conflict(message, line, column);
        case GRAPHDB_LOCKED: throw Locked(message, line, column);
        case GRAPHDB_BUSY: throw Busy(message, line, column);
        case GRAPHDB_READ_ONLY: throw ReadOnlyError(message, line, column);
        case GRAPHDB_TRANSACTION_STATE: throw TransactionState(message, line, column);
        case GRAPHDB_INVALID_ARGUMENT: throw InvalidArgument(message, line, column);
        case GRAPHDB_MISUSE: throw Misuse(message, line, column);
        case GRAPHDB_INTERRUPTED: throw Interrupted(message, line, column);
        case GRAPHDB_IO_ERROR: throw IoError(message, line, column);
        case GRAPHDB_CORRUPT: throw Corrupt(message, line, column);
        case GRAPHDB_INTERNAL: throw Internal(message, line, column);
        default: throw GeneralError(message, line, column);
    }
}

}  // namespace graphdb
