// graphdb C++ wrapper: Result (the rows of one statement) and Row (typed access to the
// current row), plus the copy of borrowed graphdb_value views into graphdb::Value.
#pragma once

#include <graphdb.h>

#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail.hpp"
#include "error.hpp"
#include "value.hpp"

namespace graphdb {

// Which change counter Result::stat returns.
enum class Stat : std::uint32_t {
    NodesCreated = GRAPHDB_STAT_NODES_CREATED,
    NodesDeleted = GRAPHDB_STAT_NODES_DELETED,
    RelationshipsCreated = GRAPHDB_STAT_RELATIONSHIPS_CREATED,
    RelationshipsDeleted = GRAPHDB_STAT_RELATIONSHIPS_DELETED,
    PropertiesSet = GRAPHDB_STAT_PROPERTIES_SET,
    LabelsAdded = GRAPHDB_STAT_LABELS_ADDED,
    LabelsRemoved = GRAPHDB_STAT_LABELS_REMOVED,
};

namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class>
inline constexpr bool dependent_false = false;

// Views are borrowed until the result moves on, so everything is copied out at once.
class ValueReader {
public:
    explicit ValueReader(const ConnState* s) : s_(s) {}

    Value read(const graphdb_value* v) const {
        const auto type = static_cast<Type>(graphdb_value_get_type(v));
        switch (type) {
            case Type::Null: return Value();
            case Type::Bool: {
                bool b = false;
                check(s_, graphdb_value_get_bool(v, &b));
                return Value(b);
            }
            case Type::Int64: {
                std::int64_t i = 0;
                check(s_, graphdb_value_get_int64(v, &i));
                return Value(i);
            }
            case Type::Double: {
                double d = 0;
                check(s_, graphdb_value_get_double(v, &d));
                return Value(d);
            }
            case Type::String: return Value(string(v));
            case Type::List: {
                std::size_t n = 0;
                check(s_, graphdb_value_list_size(v, &n));
                List list;
                list.reserve(n);
                for (std::size_t i = 0; i < n; ++i) {
                    const graphdb_value* e = nullptr;
                    check(s_, graphdb_value_list_get(v, i, &e));
                    list.push_back(read(e));
                }
                return Value(std::move(list));
            }
            case Type::Map: return Value(map(v));
            case Type::Node: return Value(node(v));
            case Type::Relationship: return Value(relationship(v));
            case Type::Path: {
                std::size_t len = 0;
                check(s_, graphdb_value_path_length(v, &len));
                Path p;
                for (std::size_t i = 0; i <= len; ++i) {
                    const graphdb_value* n = nullptr;
                    check(s_, graphdb_value_path_node(v, i, &n));
                    p.nodes.push_back(node(n));
                }
                for (std::size_t i = 0; i < len; ++i) {
                    const graphdb_value* r = nullptr;
                    check(s_, graphdb_value_path_relationship(v, i, &r));
                    p.relationships.push_back(relationship(r));
                }
                return Value(std::move(p));
            }
            case Type::Date:
            case Type::LocalTime:
            case Type::Time:
            case Type::LocalDateTime:
            case Type::DateTime:
            case Type::Duration: return Value(Temporal{type, string(v)});
            case Type::Invalid: break;
        }
        throw InvalidArgument("the library returned a value of unknown type " +
                              std::to_string(static_cast<int>(type)));
    }

private:
    std::string string(const graphdb_value* v) const {
        const char* p = nullptr;
        std::size_t n = 0;
        check(s_, graphdb_value_get_string(v, &p, &n));
        return std::string(p, n);
    }

    Map map(const graphdb_value* v) const {
        std::size_t n = 0;
        check(s_, graphdb_value_map_size(v, &n));
        Map m;
        for (std::size_t i = 0; i < n; ++i) {
            const char* k = nullptr;
            std::size_t klen = 0;
            const graphdb_value* e = nullptr;
            check(s_, graphdb_value_map_key(v, i, &k, &klen));
            std::string key(k, klen);
            check(s_, graphdb_value_map_value(v, i, &e));
            m.emplace(std::move(key), read(e));
        }
        return m;
    }

    Node node(const graphdb_value* v) const {
        Node n;
        check(s_, graphdb_value_node_id(v, &n.id));
        std::size_t count = 0;
        check(s_, graphdb_value_node_label_count(v, &count));
        for (std::size_t i = 0; i < count; ++i) {
            const char* p = nullptr;
            std::size_t len = 0;
            check(s_, graphdb_value_node_label(v, i, &p, &len));
            n.labels.emplace_back(p, len);
        }
        const graphdb_value* props = nullptr;
        check(s_, graphdb_value_node_properties(v, &props));
        n.properties = map(props);
        return n;
    }

    Relationship relationship(const graphdb_value* v) const {
        Relationship r;
        check(s_, graphdb_value_relationship_id(v, &r.id));
        const char* p = nullptr;
        std::size_t len = 0;
        check(s_, graphdb_value_relationship_type(v, &p, &len));
        r.type.assign(p, len);
        check(s_, graphdb_value_relationship_start(v, &r.start));
        check(s_, graphdb_value_relationship_end(v, &r.end));
        const graphdb_value* props = nullptr;
        check(s_, graphdb_value_relationship_properties(v, &props));
        r.properties = map(props);
        return r;
    }

    const ConnState* s_;
};

}  // namespace detail

class Result;

// The current row of a Result: a cheap view, valid until the result moves to the next row.
class Row {
public:
    explicit Row(const Result* r) noexcept : r_(r) {}

    // T: bool, any integer type (range checked), double, std::string, Value, List, Map,
    // Node, Relationship, Path, Temporal, or std::optional of one of them (nullopt for null).
    // A type that does not match the column's value throws TypeError (no conversions).
    template <class T>
    T get(std::size_t col) const;
    template <class T>
    T get(std::string_view column) const;

    Type type(std::size_t col) const;
    bool is_null(std::size_t col) const { return type(col) == Type::Null; }
    // Any value in the JSON form of API.md (the tagged form for graph and temporal values).
    std::string json(std::size_t col) const;
    std::size_t size() const;

private:
    const Result* r_;
};

// The materialized rows and change counters of one statement; readable even after its
// connection is closed. Iterate once: `for (const auto& row : result)`.
class Result {
public:
    Result(std::shared_ptr<detail::ConnState> state, graphdb_result* r)
        : s_(std::move(state)), r_(r) {
        const std::size_t n = graphdb_result_column_count(r);
        cols_.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
            const char* name = graphdb_result_column_name(r, i);
            cols_.emplace_back(name ? name : "");
        }
    }

    const std::vector<std::string>& columns() const noexcept { return cols_; }
    std::size_t column_count() const noexcept { return cols_.size(); }
    std::size_t column_index(std::string_view name) const {
        for (std::size_t i = 0; i < cols_.size(); ++i) {
            if (cols_[i] == name) return i;
        }
        std::string all;
        for (const auto& c : cols_) all += (all.empty() ? "" : ", ") + c;
        throw InvalidArgument("no column named '" + std::string(name) + "' (columns: " + all + ")");
    }

    // Moves to the next row; false once the rows are exhausted (and from then on).
    bool next() {
        bool has = false;
        detail::check(s_.get(), graphdb_result_next(live(), &has));
        has_row_ = has;
        return has;
    }
    bool has_row() const noexcept { return has_row_; }
    Row row() const noexcept { return Row(this); }

    // The change counter `which` of the statement.
    std::int64_t stat(Stat which) const {
        return graphdb_result_stat(live(), static_cast<std::uint32_t>(which));
    }

    // Column 0 of the first row, for single-value queries; Error if there is no row.
    template <class T>
    T scalar() {
        if (!next()) throw GeneralError("the query returned no rows");
        return row().get<T>(0);
    }

    // An input iterator: advancing it moves the result itself.
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = Row;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = Row;

        iterator() noexcept = default;
        explicit iterator(Result* r) noexcept : r_(r) {}
        Row operator*() const noexcept { return Row(r_); }
        iterator& operator++() {
            if (!r_->next()) r_ = nullptr;
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.r_ == b.r_; }
        friend bool operator!=(const iterator& a, const iterator& b) noexcept { return a.r_ != b.r_; }

    private:
        Result* r_ = nullptr;
    };

    iterator begin() {
        iterator it(this);
        return ++it;
    }
    iterator end() noexcept { return iterator(); }

    // All remaining rows, each as one Value per column.
    std::vector<std::vector<Value>> fetch_all() {
        std::vector<std::vector<Value>> rows;
        while (next()) {
            std::vector<Value> row;
            for (std::size_t c = 0; c < cols_.size(); ++c) row.push_back(get<Value>(c));
            rows.push_back(std::move(row));
        }
        return rows;
    }

    graphdb_result* native() const noexcept { return r_.get(); }

    template <class T>
    T get(std::size_t col) const {
        if constexpr (detail::is_optional<T>::value) {
            if (type(col) == Type::Null) return std::nullopt;
            return get<typename T::value_type>(col);
        } else if constexpr (std::is_same_v<T, bool>) {
            bool b = false;
            detail::check(s_.get(), graphdb_result_get_bool(live(), col, &b));
            return b;
        } else if constexpr (std::is_integral_v<T>) {
            std::int64_t i = 0;
            detail::check(s_.get(), graphdb_result_get_int64(live(), col, &i));
            if constexpr (!std::is_same_v<T, std::int64_t>) {
                const bool fits =
                    std::is_signed_v<T>
                        ? (i >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                           i <= static_cast<std::int64_t>(std::numeric_limits<T>::max()))
                        : (i >= 0 && static_cast<std::uint64_t>(i) <=
                                         static_cast<std::uint64_t>(std::numeric_limits<T>::max()));
                if (!fits) {
                    throw TypeError("column " + std::to_string(col) + " holds " +
                                    std::to_string(i) + ", out of range of the requested integer type");
                }
            }
            return static_cast<T>(i);
        } else if constexpr (std::is_same_v<T, double>) {
            double d = 0;
            detail::check(s_.get(), graphdb_result_get_double(live(), col, &d));
            return d;
        } else if constexpr (std::is_same_v<T, std::string>) {
            const char* p = nullptr;
            std::size_t n = 0;
            detail::check(s_.get(), graphdb_result_get_string(live(), col, &p, &n));
            return std::string(p, n);
        } else if constexpr (std::is_same_v<T, Value>) {
            const graphdb_value* v = nullptr;
            detail::check(s_.get(), graphdb_result_get_value(live(), col, &v));
            return detail::ValueReader(s_.get()).read(v);
        } else if constexpr (std::is_same_v<T, List> || std::is_same_v<T, Map> ||
                             std::is_same_v<T, Node> || std::is_same_v<T, Relationship> ||
                             std::is_same_v<T, Path> || std::is_same_v<T, Temporal>) {
            return get<Value>(col).template as<T>();
        } else {
            static_assert(detail::dependent_false<T>, "graphdb: unsupported column type");
        }
    }

    Type type(std::size_t col) const {
        return static_cast<Type>(graphdb_result_type(live(), col));
    }

    std::string json(std::size_t col) const {
        char* owned = nullptr;
        detail::check(s_.get(), graphdb_result_get_json(live(), col, &owned));
        return detail::take_owned(owned);
    }

private:
    graphdb_result* live() const {
        if (!r_) throw Misuse("the result was moved from");
        return r_.get();
    }

    std::shared_ptr<detail::ConnState> s_;
    detail::Handle<graphdb_result, graphdb_result_free> r_;
    std::vector<std::string> cols_;
    bool has_row_ = false;
};

template <class T>
T Row::get(std::size_t col) const {
    return r_->get<T>(col);
}
template <class T>
T Row::get(std::string_view column) const {
    return r_->get<T>(r_->column_index(column));
}
inline Type Row::type(std::size_t col) const { return r_->type(col); }
inline std::string Row::json(std::size_t col) const { return r_->json(col); }
inline std::size_t Row::size() const { return r_->column_count(); }

}  // namespace graphdb
