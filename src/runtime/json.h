// A strict RFC 8259 JSON parser for config.json, tokenizer.json and the
// safetensors header. Everything it rejects throws nystrom::Error with a
// one-line message naming the source, line and column.
//
// Choices the RFC leaves open:
//  - Numbers are kept as double; an integer literal (no fraction, no exponent)
//    that fits int64 is also kept exactly, because safetensors offsets can
//    exceed 2^53. Numbers too large for a double are rejected.
//  - Duplicate object keys are kept in file order; find() returns the last,
//    as Python's json module does (so a repeated config.json key means what
//    it means to Hugging Face).
//  - A leading UTF-8 byte order mark is skipped. Strings must be valid UTF-8;
//    \u escapes are decoded to UTF-8 (surrogate pairs combined, lone
//    surrogates rejected).
//  - Nesting deeper than 512 arrays/objects is an error.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nystrom {

struct JsonValue {
  enum class Type { Null, Bool, Number, String, Array, Object };

  Type type = Type::Null;
  bool boolean = false;
  double number = 0;
  bool is_integer = false;  // integer literal that fits int64; `integer` holds it exactly
  int64_t integer = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;  // file order

  bool is_null() const { return type == Type::Null; }
  bool is_bool() const { return type == Type::Bool; }
  bool is_number() const { return type == Type::Number; }
  bool is_string() const { return type == Type::String; }
  bool is_array() const { return type == Type::Array; }
  bool is_object() const { return type == Type::Object; }

  // The last member named key; nullptr if absent or this is not an object.
  const JsonValue* find(std::string_view key) const;

  // Typed access; each throws Error("<what> must be ...") on the wrong type.
  // as_int accepts integer literals, and also numbers such as 1e3 or 768.0
  // whose value is integral and exactly representable (|x| <= 2^53).
  int64_t as_int(std::string_view what) const;
  double as_number(std::string_view what) const;
  const std::string& as_string(std::string_view what) const;
  bool as_bool(std::string_view what) const;
};

// "null", "boolean", "number", "string", "array" or "object", for messages.
const char* json_type_name(JsonValue::Type type);

// Parses one complete JSON text. source_name (e.g. a file name) starts every
// error message: "<source_name>: JSON syntax error at line L, column C: ...".
JsonValue parse_json(std::string_view text, std::string_view source_name);

}  // namespace nystrom
