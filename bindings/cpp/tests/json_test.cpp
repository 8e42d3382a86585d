// The JSON encoder of graphdb::Value, exactly and through the library.
#include "support.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

using graphdb::List;
using graphdb::Map;
using graphdb::Value;

namespace {

TEST(Json, StringsAreEscapedPerRfc8259) {
    static const char text[] = "q\" b\\ nl\n tab\t bs\b ff\f cr\r ctl\x01\x1f nul\0 slash/ \xC3\xA9 del\x7f";
    const std::string raw(text, sizeof text - 1);
    EXPECT_EQ(Value(raw).to_json(),
              "\"q\\\" b\\\\ nl\\n tab\\t bs\\b ff\\f cr\\r ctl\\u0001\\u001f nul\\u0000 slash/ "
              "\xC3\xA9 del\x7f\"");
}

TEST(Json, FloatsAlwaysLookLikeFloats) {
    EXPECT_EQ(Value(1.0).to_json(), "1.0");
    EXPECT_EQ(Value(-0.0).to_json(), "-0.0");
    EXPECT_EQ(Value(0.1).to_json(), "0.1");
    EXPECT_EQ(Value(1e300).to_json(), "1e+300");
    EXPECT_EQ(Value(std::nan("")).to_json(), R"({"$float":"NaN"})");
    EXPECT_EQ(Value(-std::numeric_limits<double>::infinity()).to_json(), R"({"$float":"-Infinity"})");
    EXPECT_EQ(Value(List{1, 2.5, nullptr, false}).to_json(), "[1,2.5,null,false]");
    EXPECT_EQ(Value(Map{{"b", 1}, {"a", Map{}}}).to_json(), R"({"a":{},"b":1})");
}

TEST(Json, TemporalWithANonTemporalTypeIsRefused) {
    EXPECT_THROW(Value(graphdb::Temporal{graphdb::Type::Int64, "1"}).to_json(), graphdb::InvalidArgument);
}

// Doubles inside a list go through the encoder; the library must read back the same bits.
TEST(Json, DoublesRoundTripBitExactThroughTheLibrary) {
    auto db = graphdb::Database::in_memory();
    auto conn = db.connect();
    const double samples[] = {0.1, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, -2.5e-10, 123456789.0};
    for (double d : samples) {
        auto r = conn.query("RETURN $l[0] AS d", graphdb::Params{{"l", List{d}}});
        double back = r.scalar<double>();
        EXPECT_EQ(std::memcmp(&back, &d, sizeof d), 0) << Value(d).to_json();
    }
}

}  // namespace
