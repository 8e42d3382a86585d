// Round trips of every value type between C++ and the library, and typed row access.
#include "support.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

using graphdb::List;
using graphdb::Map;
using graphdb::Params;
using graphdb::Type;
using graphdb::Value;
using graphdb_test::DbTest;

namespace {

class Values : public DbTest {
protected:
    // RETURN $p through the parameter set, as one row with one column.
    graphdb::Result echo(const Value& v) {
        graphdb::Result r = conn.query("RETURN $p AS p", Params{{"p", v}});
        EXPECT_TRUE(r.next());
        return r;
    }
};

TEST_F(Values, ScalarsRoundTripThroughTypedSetters) {
    EXPECT_EQ(echo(nullptr).type(0), Type::Null);
    EXPECT_EQ(echo(true).get<bool>(0), true);
    EXPECT_EQ(echo(false).get<bool>(0), false);
    const auto lo = std::numeric_limits<std::int64_t>::min();
    const auto hi = std::numeric_limits<std::int64_t>::max();
    EXPECT_EQ(echo(lo).get<std::int64_t>(0), lo);
    EXPECT_EQ(echo(hi).get<std::int64_t>(0), hi);
    EXPECT_EQ(echo(0.1).get<double>(0), 0.1);
    EXPECT_TRUE(std::isnan(echo(std::nan("")).get<double>(0)));
    EXPECT_EQ(echo(-std::numeric_limits<double>::infinity()).get<double>(0),
              -std::numeric_limits<double>::infinity());
    // Embedded NUL and multi-byte UTF-8 survive (set_string_n, length-exact getter).
    const std::string s("a\0b \xC3\xA9 \xF0\x9F\x98\x80", 11);
    EXPECT_EQ(echo(s).get<std::string>(0), s);
    EXPECT_EQ(echo(Value(s)).type(0), Type::String);
}

TEST_F(Values, OptionalGetterIsNulloptOnlyForNull) {
    auto r = conn.query("RETURN null AS a, 5 AS b");
    ASSERT_TRUE(r.next());
    EXPECT_EQ(r.row().get<std::optional<std::int64_t>>("a"), std::nullopt);
    EXPECT_EQ(r.row().get<std::optional<std::int64_t>>("b"), std::optional<std::int64_t>(5));
    EXPECT_THROW(r.row().get<std::int64_t>("a"), graphdb::TypeError);
}

TEST_F(Values, ListsAndMapsRoundTripThroughJson) {
    Value nested = Map{
        {"empty", List{}},
        {"list", List{1, -2.5, "x", nullptr, true, List{Map{{"deep", "\"quoted\" \\ \n\t\x01"}}}}},
        {"nan", std::nan("")},
        {"unicode \xE2\x82\xAC", std::string("nul\0inside", 10)},
    };
    auto r = echo(nested);
    ASSERT_EQ(r.type(0), Type::Map);
    Value back = r.get<Value>(0);
    // NaN != NaN, so compare the rest and check NaN separately.
    const Map& m = back.as<Map>();
    EXPECT_TRUE(std::isnan(m.at("nan").as<double>()));
    Map expected = nested.as<Map>();
    Map actual = m;
    expected.erase("nan");
    actual.erase("nan");
    EXPECT_EQ(Value(actual), Value(expected));
    // Our encoder writes the library's canonical form byte for byte.
    EXPECT_EQ(r.json(0), nested.to_json());
}

TEST_F(Values, GraphValuesAreCopiedWhole) {
    conn.query("CREATE (:User:Admin {name: 'ann', age: 31})-[:FOLLOWS {since: 2020}]->(:User {name: 'bob'})");
    auto r = conn.query("MATCH p = (a)-[f:FOLLOWS]->(b) RETURN a, f, p");
    ASSERT_TRUE(r.next());
    auto a = r.row().get<graphdb::Node>("a");
    EXPECT_EQ(a.labels, (std::vector<std::string>{"User", "Admin"}));
    EXPECT_EQ(a.properties.at("name"), Value("ann"));
    EXPECT_EQ(a.properties.at("age"), Value(31));
    auto f = r.row().get<graphdb::Relationship>("f");
    EXPECT_EQ(f.type, "FOLLOWS");
    EXPECT_EQ(f.start, a.id);
    EXPECT_EQ(f.properties.at("since"), Value(2020));
    auto p = r.row().get<graphdb::Path>("p");
    ASSERT_EQ(p.nodes.size(), 2u);
    ASSERT_EQ(p.relationships.size(), 1u);
    EXPECT_EQ(p.nodes[0], a);
    EXPECT_EQ(p.relationships[0], f);
    EXPECT_EQ(p.nodes[1].id, f.end);
    EXPECT_EQ(p.nodes[1].properties.at("name"), Value("bob"));
    for (std::size_t c = 0; c < 3; ++c) EXPECT_EQ(r.json(c), r.get<Value>(c).to_json());
    EXPECT_FALSE(r.next());
}

TEST_F(Values, TemporalValuesUseTheirStringForm) {
    auto r = conn.query("RETURN date('2015-07-21') AS d, duration('P1Y2M') AS du");
    ASSERT_TRUE(r.next());
    EXPECT_EQ(r.type(0), Type::Date);
    EXPECT_EQ(r.get<std::string>(0), "2015-07-21");
    EXPECT_EQ(r.get<graphdb::Temporal>(1), (graphdb::Temporal{Type::Duration, "P1Y2M"}));
    // A Temporal parameter travels as its JSON tag and arrives as a real date.
    auto y = conn.query("RETURN $d.year AS y", Params{{"d", graphdb::Temporal{Type::Date, "2015-07-21"}}});
    EXPECT_EQ(y.scalar<std::int64_t>(), 2015);
}

TEST_F(Values, NodesCannotBeParameters) {
    graphdb::Node n;
    n.labels = {"User"};
    EXPECT_THROW(Params().set("n", Value(n)), graphdb::InvalidArgument);
}

TEST_F(Values, IntegersAreRangeChecked) {
    EXPECT_THROW(Value(std::numeric_limits<std::uint64_t>::max()), graphdb::InvalidArgument);
    auto r = conn.query("RETURN 1099511627776 AS big, 200 AS small");
    ASSERT_TRUE(r.next());
    EXPECT_THROW(r.get<std::int32_t>(0), graphdb::TypeError);
    EXPECT_EQ(r.get<std::uint8_t>(1), 200);
    EXPECT_THROW(r.get<std::int8_t>(1), graphdb::TypeError);
}

TEST_F(Values, RowsIterateInOrderByNameAndIndex) {
    std::vector<std::int64_t> seen;
    for (const auto& row : conn.query("UNWIND range(1, 5) AS x RETURN x, x * x AS sq")) {
        EXPECT_EQ(row.get<std::int64_t>("sq"), row.get<std::int64_t>(0) * row.get<std::int64_t>(0));
        seen.push_back(row.get<std::int64_t>("x"));
    }
    EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
    auto r = conn.query("RETURN 1 AS one");
    ASSERT_TRUE(r.next());
    EXPECT_THROW(r.row().get<std::int64_t>("two"), graphdb::InvalidArgument);
}

TEST_F(Values, ResultCountersReportChanges) {
    auto r = conn.query("CREATE (a:A {x: 1, y: 2})-[:R]->(b:B:C) RETURN a");
    EXPECT_EQ(r.stat(graphdb::Stat::NodesCreated), 2);
    EXPECT_EQ(r.stat(graphdb::Stat::RelationshipsCreated), 1);
    EXPECT_EQ(r.stat(graphdb::Stat::PropertiesSet), 2);
    EXPECT_EQ(r.stat(graphdb::Stat::LabelsAdded), 3);
    auto d = conn.query("MATCH (n) DETACH DELETE n");
    EXPECT_EQ(d.stat(graphdb::Stat::NodesDeleted), 2);
    EXPECT_EQ(d.stat(graphdb::Stat::RelationshipsDeleted), 1);
}

TEST_F(Values, PreparedStatementRunsWithNewParameters) {
    auto stmt = conn.prepare("CREATE (n:N {i: $i}) RETURN n.i AS i");
    Params p;
    for (int i = 0; i < 3; ++i) {
        p.clear().set("i", i);
        EXPECT_EQ(stmt.execute(p).scalar<int>(), i);
    }
    EXPECT_EQ(conn.query("MATCH (n:N) RETURN sum(n.i)").scalar<std::int64_t>(), 3);
}

}  // namespace
