// graphdb C++ wrapper: Options (how a database opens) and Params (named query parameters),
// both builders over their C handles.
#pragma once

#include <graphdb.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "detail.hpp"
#include "error.hpp"
#include "value.hpp"

namespace graphdb {

enum class TxMode : std::uint32_t {
    ReadWrite = GRAPHDB_TXN_READ_WRITE,
    ReadOnly = GRAPHDB_TXN_READ_ONLY,
};

enum class Isolation : std::uint32_t {
    Default = GRAPHDB_ISOLATION_DEFAULT,  // the database's `isolation` option
    Serializable = GRAPHDB_ISOLATION_SERIALIZABLE,
    Snapshot = GRAPHDB_ISOLATION_SNAPSHOT,
};

// Open options (keys and values: graphdb_options_set in graphdb.h). A key or value the
// library refuses throws InvalidArgument at once.
class Options {
public:
    Options() {
        graphdb_options* o = nullptr;
        graphdb_status st = graphdb_options_new(&o);
        if (st != GRAPHDB_OK) throw_error(st, "graphdb_options_new failed");
        o_.reset(o);
    }

    Options& set(std::string_view key, std::string_view value) {
        std::string k = detail::c_text(key, "option key");
        std::string v = detail::c_text(value, "option value");
        graphdb_status st = graphdb_options_set(o_.get(), k.c_str(), v.c_str());
        if (st != GRAPHDB_OK) {
            throw_error(st, "the library refused option " + k + " = " + v);
        }
        return *this;
    }
    // Without this a string literal would pick the bool overload.
    Options& set(std::string_view key, const char* value) {
        return set(key, std::string_view(value));
    }
    Options& set(std::string_view key, bool value) { return set(key, value ? "true" : "false"); }
    template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
    Options& set(std::string_view key, I value) {
        return set(key, std::string_view(std::to_string(value)));
    }

    Options& read_only(bool on = true) { return set("access_mode", on ? "read_only" : "read_write"); }
    Options& create(bool on) { return set("create", on); }
    Options& sync(std::string_view mode) { return set("sync", mode); }  // full | normal | off
    Options& busy_timeout_ms(std::uint64_t ms) { return set("busy_timeout_ms", ms); }
    Options& query_timeout_ms(std::uint64_t ms) { return set("query_timeout_ms", ms); }
    Options& isolation(Isolation level) {
        return set("isolation", level == Isolation::Snapshot ? "snapshot" : "serializable");
    }

    const graphdb_options* native() const noexcept { return o_.get(); }

private:
    detail::Handle<graphdb_options, graphdb_options_free> o_;
};

// Named query parameters. Scalars use the typed setters; lists, maps and temporals travel
// in the JSON form. Nodes, relationships and paths cannot be parameters: the library
// refuses them with InvalidArgument.
class Params {
public:
    Params() {
        graphdb_params* p = nullptr;
        graphdb_status st = graphdb_params_new(&p);
        if (st != GRAPHDB_OK) throw_error(st, "graphdb_params_new failed");
        p_.reset(p);
    }
    // Params{{"name", "ann"}, {"age", 31}}
    Params(std::initializer_list<std::pair<std::string_view, Value>> values) : Params() {
        for (const auto& [name, value] : values) set(name, value);
    }

    Params& set(std::string_view name, std::nullptr_t) {
        return apply(name, [&](const char* n) { return graphdb_params_set_null(p_.get(), n); });
    }
    Params& set(std::string_view name, bool v) {
        return apply(name, [&](const char* n) { return graphdb_params_set_bool(p_.get(), n, v); });
    }
    template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool> &&
                                            !std::is_same_v<I, char>,
                                        int> = 0>
    Params& set(std::string_view name, I v) {
        return set(name, Value(v));  // Value checks the range of large unsigned values
    }
    Params& set(std::string_view name, double v) {
        return apply(name,
                     [&](const char* n) { return graphdb_params_set_double(p_.get(), n, v); });
    }
    // Any bytes: NULs are kept, invalid UTF-8 is the library's InvalidArgument.
    Params& set(std::string_view name, std::string_view v) {
        return apply(name, [&](const char* n) {
            return graphdb_params_set_string_n(p_.get(), n, v.data(), v.size());
        });
    }
    Params& set(std::string_view name, const char* v) { return set(name, std::string_view(v)); }
    Params& set(std::string_view name, const std::string& v) {
        return set(name, std::string_view(v));
    }
    Params& set(std::string_view name, const Value& v) {
        switch (v.type()) {
            case Type::Null: return set(name, nullptr);
            case Type::Bool: return set(name, v.as<bool>());
            case Type::Int64: {
                const std::int64_t i = v.as<std::int64_t>();
                return apply(name,
                             [&](const char* n) { return graphdb_params_set_int64(p_.get(), n, i); });
            }
            case Type::Double: return set(name, v.as<double>());
            case Type::String: return set(name, std::string_view(v.as<std::string>()));
            default: return set_json(name, v.to_json());
        }
    }
    // A value already in the JSON form of API.md.
    Params& set_json(std::string_view name, std::string_view json) {
        std::string text = detail::c_text(json, "parameter JSON");
        return apply(name,
                     [&](const char* n) { return graphdb_params_set_json(p_.get(), n, text.c_str()); });
    }

    Params& clear() {
        graphdb_status st = graphdb_params_clear(p_.get());
        if (st != GRAPHDB_OK) throw_error(st, "graphdb_params_clear failed");
        return *this;
    }

    const graphdb_params* native() const noexcept { return p_.get(); }

private:
    template <class F>
    Params& apply(std::string_view name, F&& call) {
        std::string n = detail::c_text(name, "parameter name");
        graphdb_status st = call(n.c_str());
        if (st != GRAPHDB_OK) {
            const char* why = graphdb_params_error_message(p_.get());
            throw_error(st, "parameter $" + n + ": " + (why ? why : status_name(st)));
        }
        return *this;
    }

    detail::Handle<graphdb_params, graphdb_params_free> p_;
};

}  // namespace graphdb
