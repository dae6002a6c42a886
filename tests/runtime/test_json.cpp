// The JSON parser: strict RFC 8259, exact integers, one-line errors with
// line and column, and no out-of-bounds read on any input.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "nystrom/nystrom.h"
#include "runtime/json.h"
#include "support.h"

using nystrom::JsonValue;
using nystrom::parse_json;

namespace {

JsonValue parse(std::string_view text) { return parse_json(text, "test.json"); }

using test::error_of;

std::string parse_error(std::string_view text) {
  return error_of([&] { parse(text); });
}

}  // namespace

TEST_CASE("json: scalars") {
  CHECK(parse("null").is_null());
  CHECK(parse("true").as_bool("x") == true);
  CHECK(parse("false").as_bool("x") == false);
  CHECK(parse("\"hi\"").as_string("x") == "hi");
  CHECK(parse("  \t\r\n 7 \n").as_int("x") == 7);  // the four whitespace characters around a value
}

TEST_CASE("json: numbers keep double and, for integer literals, the exact int64") {
  JsonValue v = parse("12");
  CHECK(v.is_number());
  CHECK(v.is_integer);
  CHECK(v.integer == 12);
  CHECK(v.number == 12.0);

  CHECK(parse("-0").as_int("x") == 0);
  CHECK(parse("-12").as_int("x") == -12);
  CHECK(parse("1.5").as_number("x") == 1.5);
  CHECK(parse("-2.5e+3").as_number("x") == -2500.0);
  CHECK(parse("1E-2").as_number("x") == doctest::Approx(0.01));
  CHECK(parse("1e-12").as_number("x") == doctest::Approx(1e-12));
  CHECK_FALSE(parse("1.0").is_integer);
  CHECK_FALSE(parse("1e3").is_integer);

  // Beyond 2^53 a double loses the last digit; the integer does not.
  CHECK(parse("9007199254740993").as_int("x") == 9007199254740993LL);
  CHECK(parse("9223372036854775807").as_int("x") == std::numeric_limits<int64_t>::max());
  CHECK(parse("-9223372036854775808").as_int("x") == std::numeric_limits<int64_t>::min());

  // Too big for int64: still a number, no longer an integer.
  JsonValue big = parse("9223372036854775808");
  CHECK(big.is_number());
  CHECK_FALSE(big.is_integer);
  CHECK(big.number == doctest::Approx(9.223372036854775808e18));
  CHECK_ERROR(big.as_int("offset"), "offset must be an integer");

  // Underflow rounds to zero; overflow is an error.
  CHECK(parse("1e-400").as_number("x") == 0.0);
  CHECK(parse("-1e-400").as_number("x") == 0.0);
  CHECK(parse("0e999999999999").as_number("x") == 0.0);
  CHECK_CONTAINS(parse_error("1e400"), "number out of range");
  CHECK_CONTAINS(parse_error("-1e400"), "number out of range");
  CHECK_CONTAINS(parse_error("[0.00000000000001e330]"), "number out of range");
  CHECK(parse("100000e-305").as_number("x") == doctest::Approx(1e-300));
}

TEST_CASE("json: as_int accepts integral values only") {
  CHECK(parse("1e3").as_int("x") == 1000);
  CHECK(parse("768.0").as_int("x") == 768);
  CHECK_ERROR(parse("1.5").as_int("hidden_size"), "hidden_size must be an integer");
  CHECK_ERROR(parse("1e300").as_int("hidden_size"), "hidden_size must be an integer");
  CHECK_ERROR(parse("\"12\"").as_int("hidden_size"), "hidden_size must be an integer");
  CHECK_ERROR(parse("null").as_int("hidden_size"), "hidden_size must be an integer");
}

TEST_CASE("json: typed accessors name what was wanted") {
  CHECK_ERROR(parse("1").as_string("model_type"), "model_type must be a string");
  CHECK_ERROR(parse("1").as_bool("flag"), "flag must be a boolean");
  CHECK_ERROR(parse("\"1\"").as_number("eps"), "eps must be a number");
  CHECK(std::string(nystrom::json_type_name(JsonValue::Type::Object)) == "object");
}

TEST_CASE("json: arrays and objects keep file order") {
  JsonValue v = parse(R"({"b": [1, 2, [], {}], "a": {"x": null}, "c": "z"})");
  REQUIRE(v.is_object());
  REQUIRE(v.object.size() == 3);
  CHECK(v.object[0].first == "b");
  CHECK(v.object[1].first == "a");
  CHECK(v.object[2].first == "c");
  const JsonValue* b = v.find("b");
  REQUIRE(b != nullptr);
  REQUIRE(b->is_array());
  REQUIRE(b->array.size() == 4);
  CHECK(b->array[1].as_int("x") == 2);
  CHECK(b->array[2].is_array());
  CHECK(b->array[2].array.empty());
  CHECK(b->array[3].is_object());
  CHECK(v.find("a")->find("x")->is_null());
  CHECK(v.find("missing") == nullptr);
  CHECK(b->find("b") == nullptr);  // not an object
  CHECK(parse("[]").array.empty());
  CHECK(parse("{}").object.empty());
  CHECK(parse(" [ 1 , 2 ] ").array.size() == 2);
}

TEST_CASE("json: duplicate keys are all kept and find returns the last, as Python's json module does") {
  JsonValue v = parse(R"({"k": 1, "j": 0, "k": 2})");
  CHECK(v.object.size() == 3);
  CHECK(v.find("k")->as_int("k") == 2);
  CHECK(v.find("j")->as_int("j") == 0);
}

TEST_CASE("json: string escapes and UTF-8") {
  CHECK(parse(R"("a\"b\\c\/d\b\f\n\r\t")").string == "a\"b\\c/d\b\f\n\r\t");
  CHECK(parse(R"("\u0041\u00e9\u20AC")").string == "A\xC3\xA9\xE2\x82\xAC");
  CHECK(parse(R"("\u0000")").string == std::string(1, '\0'));
  CHECK(parse(R"("\ud83d\ude00")").string == "\xF0\x9F\x98\x80");  // surrogate pair -> U+1F600
  CHECK(parse(R"("\uDBFF\uDFFF")").string == "\xF4\x8F\xBF\xBF");  // U+10FFFF
  CHECK(parse("\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"").string == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  CHECK(parse("\"\x7F\"").string == "\x7F");  // DEL is not a control character in JSON
}

TEST_CASE("json: string errors") {
  CHECK_CONTAINS(parse_error(R"("\ud83d")"), "lone high surrogate");
  CHECK_CONTAINS(parse_error(R"("\ud83dx")"), "lone high surrogate");
  CHECK_CONTAINS(parse_error(R"("\ud83d\u0041")"), "lone high surrogate");
  CHECK_CONTAINS(parse_error(R"("\ud83d\ud83d")"), "lone high surrogate");
  CHECK_CONTAINS(parse_error(R"("\ude00")"), "lone low surrogate");
  CHECK_CONTAINS(parse_error(R"("\u12")"), "invalid \\u escape");
  CHECK_CONTAINS(parse_error(R"("\u12G4")"), "invalid \\u escape");
  CHECK_CONTAINS(parse_error(R"("\x41")"), "invalid escape");
  CHECK_CONTAINS(parse_error(R"("\')"), "invalid escape");
  CHECK_CONTAINS(parse_error("\"a\tb\""), "control character in string");
  CHECK_CONTAINS(parse_error("\"a\nb\""), "control character in string");
  CHECK_CONTAINS(parse_error(std::string("\"a\0b\"", 5)), "control character in string");
  CHECK_CONTAINS(parse_error("\"abc"), "unexpected end of input in string");
  CHECK_CONTAINS(parse_error("\"abc\\"), "unexpected end of input in string");
  CHECK_CONTAINS(parse_error("\"\xFF\""), "invalid UTF-8");
  CHECK_CONTAINS(parse_error("\"\xC0\x80\""), "invalid UTF-8");      // overlong NUL
  CHECK_CONTAINS(parse_error("\"\xE0\x80\xAF\""), "invalid UTF-8");  // overlong '/'
  CHECK_CONTAINS(parse_error("\"\xED\xA0\x80\""), "invalid UTF-8");  // encoded surrogate
  CHECK_CONTAINS(parse_error("\"\xF4\x90\x80\x80\""), "invalid UTF-8");  // above U+10FFFF
  CHECK_CONTAINS(parse_error("\"\xE2\x82\""), "invalid UTF-8");      // cut short
  CHECK_CONTAINS(parse_error("\"\xE2\x82"), "invalid UTF-8");        // cut short by the end
  CHECK_CONTAINS(parse_error("\"\x80\""), "invalid UTF-8");          // lone continuation byte
}

TEST_CASE("json: syntax errors carry source, line and column") {
  CHECK(error_of([] { parse_json("{\n  \"a\": 1,\n  \"b\" 2\n}", "config.json"); }) ==
        "config.json: JSON syntax error at line 3, column 7: expected ':'");
  CHECK(parse_error("{\"a\": 1 \"b\": 2}") == "test.json: JSON syntax error at line 1, column 9: expected ',' or '}'");
  CHECK(parse_error("[1 2]") == "test.json: JSON syntax error at line 1, column 4: expected ',' or ']'");
  CHECK(parse_error("") == "test.json: JSON syntax error at line 1, column 1: unexpected end of input, expected a value");
  CHECK(parse_error("[1,\n") == "test.json: JSON syntax error at line 2, column 1: unexpected end of input, expected a value");
}

TEST_CASE("json: every other syntax error") {
  CHECK_CONTAINS(parse_error("   "), "unexpected end of input, expected a value");
  CHECK_CONTAINS(parse_error("1 2"), "unexpected characters after the JSON value");
  CHECK_CONTAINS(parse_error("{} x"), "unexpected characters after the JSON value");
  CHECK_CONTAINS(parse_error("[1,]"), "expected a value");
  CHECK_CONTAINS(parse_error("{\"a\": 1,}"), "expected a string key");
  CHECK_CONTAINS(parse_error("{a: 1}"), "expected a string key");
  CHECK_CONTAINS(parse_error("{'a': 1}"), "expected a string key");
  CHECK_CONTAINS(parse_error("{\"a\" 1}"), "expected ':'");
  CHECK_CONTAINS(parse_error("{\"a\":}"), "expected a value");
  CHECK_CONTAINS(parse_error("{\"a\": 1"), "unexpected end of input, expected ',' or '}'");
  CHECK_CONTAINS(parse_error("[1, 2"), "unexpected end of input, expected ',' or ']'");
  CHECK_CONTAINS(parse_error("{"), "unexpected end of input, expected a string key");
  CHECK_CONTAINS(parse_error("{\"a\""), "unexpected end of input, expected ':'");
  CHECK_CONTAINS(parse_error("]"), "expected a value");
  CHECK_CONTAINS(parse_error("'a'"), "expected a value");
  CHECK_CONTAINS(parse_error("tru"), "invalid literal");
  CHECK_CONTAINS(parse_error("nul"), "invalid literal");
  CHECK_CONTAINS(parse_error("True"), "expected a value");
  CHECK_CONTAINS(parse_error("truex"), "unexpected characters after the JSON value");
  CHECK_CONTAINS(parse_error("NaN"), "expected a value");
  CHECK_CONTAINS(parse_error("Infinity"), "expected a value");
  CHECK_CONTAINS(parse_error("-Infinity"), "invalid number");
  CHECK_CONTAINS(parse_error("+1"), "expected a value");
  CHECK_CONTAINS(parse_error(".5"), "expected a value");
  CHECK_CONTAINS(parse_error("-"), "invalid number");
  CHECK_CONTAINS(parse_error("01"), "leading zero");
  CHECK_CONTAINS(parse_error("-01"), "leading zero");
  CHECK_CONTAINS(parse_error("1."), "digit expected after '.'");
  CHECK_CONTAINS(parse_error("1.e5"), "digit expected after '.'");
  CHECK_CONTAINS(parse_error("1e"), "digit expected in exponent");
  CHECK_CONTAINS(parse_error("1e+"), "digit expected in exponent");
  CHECK_CONTAINS(parse_error("0x10"), "unexpected characters after the JSON value");
  CHECK_CONTAINS(parse_error("[1]]"), "unexpected characters after the JSON value");
  CHECK_CONTAINS(parse_error("\v1"), "expected a value");  // vertical tab is not JSON whitespace
}

TEST_CASE("json: a byte order mark is skipped") {
  CHECK(parse("\xEF\xBB\xBF{\"a\": 1}").find("a")->as_int("a") == 1);
}

TEST_CASE("json: nesting is limited to 512 levels, with an error rather than a crash") {
  std::string ok = std::string(512, '[') + std::string(512, ']');
  CHECK(parse(ok).is_array());
  std::string too_deep = std::string(513, '[') + std::string(513, ']');
  CHECK_CONTAINS(parse_error(too_deep), "nested deeper than 512 levels");
  std::string objects;
  for (int i = 0; i < 513; ++i) objects += "{\"a\":";
  CHECK_CONTAINS(parse_error(objects + "1" + std::string(513, '}')), "nested deeper than 512 levels");
  CHECK_CONTAINS(parse_error(std::string(1000000, '[')), "nested deeper than 512 levels");
}

TEST_CASE("json: every prefix and many corruptions of a document fail cleanly") {
  // Run under AddressSanitizer, this proves no input makes the parser read
  // outside the text: each variant either parses or throws nystrom::Error.
  const std::string doc =
      "{\"name\": \"caf\\u00e9 \\ud83d\\ude00 \xE2\x82\xAC\", \"n\": [-1.5e3, 0, 18446744073709551616, true, "
      "false, null], \"o\": {\"k\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}}";
  CHECK(parse(doc).is_object());
  for (size_t len = 0; len < doc.size(); ++len) {
    std::string prefix = doc.substr(0, len);  // its own allocation, so reading past it is caught
    CHECK_THROWS_AS(parse(prefix), nystrom::Error);
  }
  uint32_t state = 12345;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (int i = 0; i < 20000; ++i) {
    std::string variant = doc;
    for (int k = 0; k < 3; ++k) variant[next() % variant.size()] = static_cast<char>(next() >> 24);
    variant.resize(next() % (variant.size() + 1));
    try {
      parse(variant);
    } catch (const nystrom::Error&) {
    }
  }
}
