#include "runtime/json.h"

#include <charconv>
#include <cmath>

#include "runtime/error.h"

namespace nystrom {

// ---------------------------------------------------------------- JsonValue

const char* json_type_name(JsonValue::Type type) {
  switch (type) {
    case JsonValue::Type::Null: return "null";
    case JsonValue::Type::Bool: return "boolean";
    case JsonValue::Type::Number: return "number";
    case JsonValue::Type::String: return "string";
    case JsonValue::Type::Array: return "array";
    case JsonValue::Type::Object: return "object";
  }
  return "?";
}

const JsonValue* JsonValue::find(std::string_view key) const {
  if (type != Type::Object) return nullptr;
  // The last one, as Python's json module and Hugging Face read a repeated key.
  for (auto it = object.rbegin(); it != object.rend(); ++it)
    if (it->first == key) return &it->second;
  return nullptr;
}

int64_t JsonValue::as_int(std::string_view what) const {
  if (type == Type::Number) {
    if (is_integer) return integer;
    // 2^53: beyond it a double no longer holds every integer exactly.
    if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) <= 9007199254740992.0)
      return static_cast<int64_t>(number);
  }
  fail(what, " must be an integer");
}

double JsonValue::as_number(std::string_view what) const {
  if (type != Type::Number) fail(what, " must be a number");
  return number;
}

const std::string& JsonValue::as_string(std::string_view what) const {
  if (type != Type::String) fail(what, " must be a string");
  return string;
}

bool JsonValue::as_bool(std::string_view what) const {
  if (type != Type::Bool) fail(what, " must be a boolean");
  return boolean;
}

// ------------------------------------------------------------------- parser

namespace {

constexpr int kMaxDepth = 512;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// from_chars reports overflow and underflow alike. Tells them apart from the
// text (already known to match the JSON number grammar): true when the first
// significant digit stands below the units place, i.e. |value| < 1.
bool magnitude_below_one(std::string_view t) {
  size_t i = (t[0] == '-') ? 1 : 0;
  long long power = 0;  // decimal power of the first nonzero digit
  bool found = false;
  size_t int_begin = i;
  while (i < t.size() && is_digit(t[i])) ++i;
  if (t[int_begin] != '0') {
    power = static_cast<long long>(i - int_begin) - 1;
    found = true;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    for (long long k = 1; i < t.size() && is_digit(t[i]); ++i, ++k)
      if (!found && t[i] != '0') {
        power = -k;
        found = true;
      }
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool negative = t[i] == '-';
    if (t[i] == '-' || t[i] == '+') ++i;
    long long exponent = 0;
    for (; i < t.size(); ++i)
      if (exponent < 1000000000) exponent = exponent * 10 + (t[i] - '0');  // clamp: only the sign of the sum matters
    power += negative ? -exponent : exponent;
  }
  return power < 0;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : s_(text), source_(source) {}

  JsonValue parse_document() {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // RFC 8259 allows ignoring a BOM
    JsonValue value;
    parse_value(value, 0);
    skip_ws();
    if (!at_end()) error_at(pos_, "unexpected characters after the JSON value");
    return value;
  }

 private:
  std::string_view s_;
  std::string_view source_;
  size_t pos_ = 0;

  [[noreturn]] void error_at(size_t pos, std::string_view what) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    fail(source_, ": JSON syntax error at line ", line, ", column ", column, ": ", what);
  }

  [[noreturn]] void expected(std::string_view what) const {
    if (at_end()) error_at(pos_, std::string("unexpected end of input, expected ") + std::string(what));
    error_at(pos_, std::string("expected ") + std::string(what));
  }

  bool at_end() const { return pos_ >= s_.size(); }

  void skip_ws() {
    while (!at_end() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  void parse_value(JsonValue& out, int depth) {
    skip_ws();
    if (at_end()) expected("a value");
    switch (s_[pos_]) {
      case '{': parse_object(out, depth); return;
      case '[': parse_array(out, depth); return;
      case '"':
        out.type = JsonValue::Type::String;
        parse_string(out.string);
        return;
      case 't': parse_literal("true"); out.type = JsonValue::Type::Bool; out.boolean = true; return;
      case 'f': parse_literal("false"); out.type = JsonValue::Type::Bool; out.boolean = false; return;
      case 'n': parse_literal("null"); out.type = JsonValue::Type::Null; return;
      default:
        if (s_[pos_] == '-' || is_digit(s_[pos_])) {
          parse_number(out);
          return;
        }
        expected("a value");  // also where NaN, Infinity or 'single quotes' appear
    }
  }

  void parse_literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) error_at(pos_, "invalid literal (expected true, false or null)");
    pos_ += word.size();
  }

  void enter(int depth) const {
    if (depth >= kMaxDepth) error_at(pos_, "arrays and objects nested deeper than 512 levels");
  }

  void parse_object(JsonValue& out, int depth) {
    enter(depth);
    out.type = JsonValue::Type::Object;
    ++pos_;  // '{'
    skip_ws();
    if (!at_end() && s_[pos_] == '}') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_ws();
      if (at_end() || s_[pos_] != '"') expected("a string key");
      out.object.emplace_back();
      parse_string(out.object.back().first);
      skip_ws();
      if (at_end() || s_[pos_] != ':') expected("':'");
      ++pos_;
      parse_value(out.object.back().second, depth + 1);
      skip_ws();
      if (!at_end() && s_[pos_] == ',') {
        ++pos_;
      } else if (!at_end() && s_[pos_] == '}') {
        ++pos_;
        return;
      } else {
        expected("',' or '}'");
      }
    }
  }

  void parse_array(JsonValue& out, int depth) {
    enter(depth);
    out.type = JsonValue::Type::Array;
    ++pos_;  // '['
    skip_ws();
    if (!at_end() && s_[pos_] == ']') {
      ++pos_;
      return;
    }
    for (;;) {
      out.array.emplace_back();
      parse_value(out.array.back(), depth + 1);
      skip_ws();
      if (!at_end() && s_[pos_] == ',') {
        ++pos_;
      } else if (!at_end() && s_[pos_] == ']') {
        ++pos_;
        return;
      } else {
        expected("',' or ']'");
      }
    }
  }

  // Four hex digits after "\u" at s_[at]; -1 if they are not there.
  long hex4(size_t at) const {
    if (at + 4 > s_.size()) return -1;
    long v = 0;
    for (size_t i = at; i < at + 4; ++i) {
      char c = s_[i];
      int d = (c >= '0' && c <= '9') ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  void parse_escape(std::string& out) {
    size_t start = pos_;  // at the backslash
    ++pos_;
    if (at_end()) error_at(pos_, "unexpected end of input in string");
    char e = s_[pos_++];
    switch (e) {
      case '"': out += '"'; return;
      case '\\': out += '\\'; return;
      case '/': out += '/'; return;
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'n': out += '\n'; return;
      case 'r': out += '\r'; return;
      case 't': out += '\t'; return;
      case 'u': break;
      default: error_at(start, "invalid escape sequence in string");
    }
    long cp = hex4(pos_);
    if (cp < 0) error_at(start, "invalid \\u escape (expected 4 hex digits)");
    pos_ += 4;
    if (cp >= 0xDC00 && cp <= 0xDFFF) error_at(start, "lone low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A high surrogate must be followed at once by an escaped low surrogate.
      long low = (s_.substr(pos_, 2) == "\\u") ? hex4(pos_ + 2) : -1;
      if (low < 0xDC00 || low > 0xDFFF) error_at(start, "lone high surrogate in \\u escape");
      pos_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, static_cast<uint32_t>(cp));
  }

  // Copies one UTF-8 encoded character starting at a byte >= 0x80, checking
  // it is well formed (no overlong forms, no surrogates, <= U+10FFFF).
  void copy_utf8(std::string& out) {
    auto byte = [&](size_t i) { return static_cast<unsigned char>(s_[i]); };
    unsigned char b0 = byte(pos_);
    size_t len;
    uint32_t cp, min;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
      error_at(pos_, "invalid UTF-8 in string");
    }
    if (pos_ + len > s_.size()) error_at(pos_, "invalid UTF-8 in string");
    for (size_t i = 1; i < len; ++i) {
      unsigned char b = byte(pos_ + i);
      if ((b & 0xC0) != 0x80) error_at(pos_, "invalid UTF-8 in string");
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) error_at(pos_, "invalid UTF-8 in string");
    out.append(s_.data() + pos_, len);
    pos_ += len;
  }

  void parse_string(std::string& out) {
    ++pos_;  // opening quote
    for (;;) {
      if (at_end()) error_at(pos_, "unexpected end of input in string");
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return;
      }
      if (c == '\\') {
        parse_escape(out);
      } else if (c < 0x20) {
        error_at(pos_, "control character in string (must be escaped)");
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        copy_utf8(out);
      }
    }
  }

  void parse_number(JsonValue& out) {
    size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (at_end() || !is_digit(s_[pos_])) error_at(start, "invalid number");
    if (s_[pos_] == '0') {
      ++pos_;
      if (!at_end() && is_digit(s_[pos_])) error_at(start, "invalid number (leading zero)");
    } else {
      while (!at_end() && is_digit(s_[pos_])) ++pos_;
    }
    bool integral = true;
    if (!at_end() && s_[pos_] == '.') {
      ++pos_;
      if (at_end() || !is_digit(s_[pos_])) error_at(start, "invalid number (digit expected after '.')");
      while (!at_end() && is_digit(s_[pos_])) ++pos_;
      integral = false;
    }
    if (!at_end() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (!at_end() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (at_end() || !is_digit(s_[pos_])) error_at(start, "invalid number (digit expected in exponent)");
      while (!at_end() && is_digit(s_[pos_])) ++pos_;
      integral = false;
    }
    std::string_view text = s_.substr(start, pos_ - start);
    const char* first = text.data();
    const char* last = text.data() + text.size();

    out.type = JsonValue::Type::Number;
    auto r = std::from_chars(first, last, out.number);
    if (r.ec == std::errc::result_out_of_range) {
      if (!magnitude_below_one(text)) error_at(start, "number out of range");
      out.number = text[0] == '-' ? -0.0 : 0.0;  // underflow rounds to zero
    } else if (r.ec != std::errc() || r.ptr != last) {
      error_at(start, "invalid number");
    }
    if (integral) {
      int64_t v = 0;
      auto ri = std::from_chars(first, last, v);
      if (ri.ec == std::errc() && ri.ptr == last) {
        out.is_integer = true;
        out.integer = v;
      }
    }
  }
};

}  // namespace

JsonValue parse_json(std::string_view text, std::string_view source_name) {
  return Parser(text, source_name).parse_document();
}

}  // namespace nystrom
