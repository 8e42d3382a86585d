// graphdb C++ wrapper: graphdb::Value, an owned copy of any Cypher value, and its JSON form
// (the form graphdb_params_set_json reads and graphdb_result_get_json writes, see API.md).
#pragma once

#include <graphdb.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "error.hpp"

namespace graphdb {

// Mirrors graphdb_value_type (same numbers).
enum class Type : int {
    Null = GRAPHDB_TYPE_NULL,
    Bool = GRAPHDB_TYPE_BOOL,
    Int64 = GRAPHDB_TYPE_INT64,
    Double = GRAPHDB_TYPE_DOUBLE,
    String = GRAPHDB_TYPE_STRING,
    List = GRAPHDB_TYPE_LIST,
    Map = GRAPHDB_TYPE_MAP,
    Node = GRAPHDB_TYPE_NODE,
    Relationship = GRAPHDB_TYPE_RELATIONSHIP,
    Path = GRAPHDB_TYPE_PATH,
    Date = GRAPHDB_TYPE_DATE,
    LocalTime = GRAPHDB_TYPE_LOCAL_TIME,
    Time = GRAPHDB_TYPE_TIME,
    LocalDateTime = GRAPHDB_TYPE_LOCAL_DATETIME,
    DateTime = GRAPHDB_TYPE_DATETIME,
    Duration = GRAPHDB_TYPE_DURATION,
    Invalid = GRAPHDB_TYPE_INVALID,
};

inline const char* type_name(Type t) noexcept {
    switch (t) {
        case Type::Null: return "null";
        case Type::Bool: return "bool";
        case Type::Int64: return "int64";
        case Type::Double: return "double";
        case Type::String: return "string";
        case Type::List: return "list";
        case Type::Map: return "map";
        case Type::Node: return "node";
        case Type::Relationship: return "relationship";
        case Type::Path: return "path";
        case Type::Date: return "date";
        case Type::LocalTime: return "localtime";
        case Type::Time: return "time";
        case Type::LocalDateTime: return "localdatetime";
        case Type::DateTime: return "datetime";
        case Type::Duration: return "duration";
        case Type::Invalid: return "invalid";
    }
    return "unknown";
}

class Value;

// Recursive containers of the incomplete Value: std::vector allows an incomplete element
// type since C++17; std::map does in libstdc++, libc++ and MSVC (its nodes are allocated).
using List = std::vector<Value>;
using Map = std::map<std::string, Value, std::less<>>;

struct Node {
    std::uint64_t id = 0;
    std::vector<std::string> labels;
    Map properties;
};

struct Relationship {
    std::uint64_t id = 0;
    std::string type;
    std::uint64_t start = 0;
    std::uint64_t end = 0;
    Map properties;
};

// nodes.size() == relationships.size() + 1 for a path read from a result.
struct Path {
    std::vector<Node> nodes;
    std::vector<Relationship> relationships;
};

// A date, time, date-time or duration in its Cypher string form ("2015-07-21", "P1Y2M").
// `type` is one of Type::Date .. Type::Duration.
struct Temporal {
    Type type = Type::Date;
    std::string text;
};

class Value {
public:
    using Variant = std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, List,
                                 Map, Node, Relationship, Path, Temporal>;

    Value() noexcept : v_(nullptr) {}
    Value(std::nullptr_t) noexcept : v_(nullptr) {}
    Value(bool b) noexcept : v_(std::in_place_type<bool>, b) {}
    // Any integer type; an unsigned value above INT64_MAX does not fit Cypher's integers.
    template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool> &&
                                            !std::is_same_v<I, char>,
                                        int> = 0>
    Value(I i) : v_(std::in_place_type<std::int64_t>, checked_int(i)) {}
    Value(double d) noexcept : v_(std::in_place_type<double>, d) {}
    Value(float f) noexcept : v_(std::in_place_type<double>, static_cast<double>(f)) {}
    // const char* must not fall through to the bool constructor.
    Value(const char* s) : v_(std::in_place_type<std::string>, s) {}
    Value(std::string_view s) : v_(std::in_place_type<std::string>, s) {}
    Value(std::string s) noexcept : v_(std::in_place_type<std::string>, std::move(s)) {}
    Value(List l) noexcept : v_(std::in_place_type<List>, std::move(l)) {}
    Value(Map m) noexcept : v_(std::in_place_type<Map>, std::move(m)) {}
    Value(Node n) noexcept : v_(std::in_place_type<Node>, std::move(n)) {}
    Value(Relationship r) noexcept : v_(std::in_place_type<Relationship>, std::move(r)) {}
    Value(Path p) noexcept : v_(std::in_place_type<Path>, std::move(p)) {}
    Value(Temporal t) noexcept : v_(std::in_place_type<Temporal>, std::move(t)) {}

    Type type() const noexcept {
        switch (v_.index()) {
            case 0: return Type::Null;
            case 1: return Type::Bool;
            case 2: return Type::Int64;
            case 3: return Type::Double;
            case 4: return Type::String;
            case 5: return Type::List;
            case 6: return Type::Map;
            case 7: return Type::Node;
            case 8: return Type::Relationship;
            case 9: return Type::Path;
            default: return std::get<Temporal>(v_).type;
        }
    }
    bool is_null() const noexcept { return v_.index() == 0; }

    // The alternative T (bool, std::int64_t, double, std::string, List, Map, Node,
    // Relationship, Path, Temporal); TypeError if the value holds another type.
    template <class T>
    const T& as() const {
        if (const T* p = std::get_if<T>(&v_)) return *p;
        throw TypeError(std::string("value is a ") + type_name(type()) + ", not the type asked for");
    }
    template <class T>
    const T* get_if() const noexcept {
        return std::get_if<T>(&v_);
    }
    const Variant& variant() const noexcept { return v_; }

    // The JSON form of API.md; graph values and temporals use their `$` tags.
    std::string to_json() const;

    friend bool operator==(const Value& a, const Value& b) { return a.v_ == b.v_; }
    friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

private:
    template <class I>
    static std::int64_t checked_int(I i) {
        if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
            if (i > static_cast<I>(std::numeric_limits<std::int64_t>::max()))
                throw InvalidArgument("integer does not fit in 64 signed bits");
        }
        return static_cast<std::int64_t>(i);
    }

    Variant v_;
};

inline bool operator==(const Node& a, const Node& b) {
    return a.id == b.id && a.labels == b.labels && a.properties == b.properties;
}
inline bool operator!=(const Node& a, const Node& b) { return !(a == b); }
inline bool operator==(const Relationship& a, const Relationship& b) {
    return a.id == b.id && a.type == b.type && a.start == b.start && a.end == b.end &&
           a.properties == b.properties;
}
inline bool operator!=(const Relationship& a, const Relationship& b) { return !(a == b); }
inline bool operator==(const Path& a, const Path& b) {
    return a.nodes == b.nodes && a.relationships == b.relationships;
}
inline bool operator!=(const Path& a, const Path& b) { return !(a == b); }
inline bool operator==(const Temporal& a, const Temporal& b) {
    return a.type == b.type && a.text == b.text;
}
inline bool operator!=(const Temporal& a, const Temporal& b) { return !(a == b); }

namespace detail {

// RFC 8259 string: quote, backslash and control characters escaped; other bytes copied, so
// invalid UTF-8 reaches the library, which rejects it with INVALID_ARGUMENT.
inline void json_string(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xf];
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

// Shortest round-trip form, locale independent, always with a fraction or exponent so the
// library reads it back as a float; NaN and infinities are not JSON numbers.
inline void json_double(std::string& out, double d) {
    if (std::isnan(d)) {
        out += R"({"$float":"NaN"})";
        return;
    }
    if (std::isinf(d)) {
        out += d > 0 ? R"({"$float":"Infinity"})" : R"({"$float":"-Infinity"})";
        return;
    }
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d);
    std::string_view text(buf, static_cast<std::size_t>(res.ptr - buf));
    out += text;
    if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

inline const char* temporal_tag(Type t) {
    switch (t) {
        case Type::Date: return "$date";
        case Type::LocalTime: return "$localtime";
        case Type::Time: return "$time";
        case Type::LocalDateTime: return "$localdatetime";
        case Type::DateTime: return "$datetime";
        case Type::Duration: return "$duration";
        default: throw InvalidArgument("a Temporal's type must be one of Date .. Duration");
    }
}

void json_value(std::string& out, const Value& v);

inline void json_map(std::string& out, const Map& m) {
    out += '{';
    bool first = true;
    for (const auto& [k, v] : m) {
        if (!first) out += ',';
        first = false;
        json_string(out, k);
        out += ':';
        json_value(out, v);
    }
    out += '}';
}

inline void json_node(std::string& out, const Node& n) {
    out += R"({"$node":{"id":)";
    out += std::to_string(n.id);
    out += R"(,"labels":[)";
    for (std::size_t i = 0; i < n.labels.size(); ++i) {
        if (i) out += ',';
        json_string(out, n.labels[i]);
    }
    out += R"(],"properties":)";
    json_map(out, n.properties);
    out += "}}";
}

inline void json_relationship(std::string& out, const Relationship& r) {
    out += R"({"$relationship":{"id":)";
    out += std::to_string(r.id);
    out += R"(,"type":)";
    json_string(out, r.type);
    out += R"(,"start":)";
    out += std::to_string(r.start);
    out += R"(,"end":)";
    out += std::to_string(r.end);
    out += R"(,"properties":)";
    json_map(out, r.properties);
    out += "}}";
}

inline void json_value(std::string& out, const Value& v) {
    struct Visitor {
        std::string& out;
        void operator()(std::nullptr_t) const { out += "null"; }
        void operator()(bool b) const { out += b ? "true" : "false"; }
        void operator()(std::int64_t i) const { out += std::to_string(i); }
        void operator()(double d) const { json_double(out, d); }
        void operator()(const std::string& s) const { json_string(out, s); }
        void operator()(const List& l) const {
            out += '[';
            for (std::size_t i = 0; i < l.size(); ++i) {
                if (i) out += ',';
                json_value(out, l[i]);
            }
            out += ']';
        }
        void operator()(const Map& m) const { json_map(out, m); }
        void operator()(const Node& n) const { json_node(out, n); }
        void operator()(const Relationship& r) const { json_relationship(out, r); }
        void operator()(const Path& p) const {
            out += R"({"$path":{"nodes":[)";
            for (std::size_t i = 0; i < p.nodes.size(); ++i) {
                if (i) out += ',';
                json_node(out, p.nodes[i]);
            }
            out += R"(],"relationships":[)";
            for (std::size_t i = 0; i < p.relationships.size(); ++i) {
                if (i) out += ',';
                json_relationship(out, p.relationships[i]);
            }
            out += "]}}";
        }
        void operator()(const Temporal& t) const {
            out += '{';
            json_string(out, temporal_tag(t.type));
            out += ':';
            json_string(out, t.text);
            out += '}';
        }
    };
    std::visit(Visitor{out}, v.variant());
}

}  // namespace detail

inline std::string Value::to_json() const {
    std::string out;
    detail::json_value(out, *this);
    return out;
}

}  // namespace graphdb
