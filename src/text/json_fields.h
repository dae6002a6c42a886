// Optional fields of tokenizer.json objects: absent or null gives the
// fallback; a value of the wrong type throws with `what` and the key.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "runtime/json.h"

namespace nystrom::text {

inline bool bool_field(const JsonValue& json, const char* key, bool fallback, const char* what) {
  const JsonValue* v = json.find(key);
  return v && !v->is_null() ? v->as_bool(std::string(what) + " " + key) : fallback;
}

inline std::string string_field(const JsonValue& json, const char* key, const std::string& fallback,
                                const char* what) {
  const JsonValue* v = json.find(key);
  return v && !v->is_null() ? v->as_string(std::string(what) + " " + key) : fallback;
}

inline const std::string& required_string(const JsonValue& json, const char* key, const char* what) {
  const JsonValue* v = json.find(key);
  if (!v) fail(what, " without \"", key, "\"");
  return v->as_string(std::string(what) + " " + key);
}

// The "type" of a pipeline stage object.
inline const std::string& type_of(const JsonValue& json, const char* what) {
  if (!json.is_object()) fail(what, " must be an object");
  return required_string(json, "type", what);
}

// A Sequence's list of stages, each built by `make` (null ones left out).
template <typename Stage, typename Make>
std::vector<std::unique_ptr<Stage>> sequence_of(const JsonValue& json, const char* key, const char* what, Make make) {
  const JsonValue* list = json.find(key);
  if (!list || !list->is_array()) fail(what, " Sequence without a \"", key, "\" array");
  std::vector<std::unique_ptr<Stage>> steps;
  for (const JsonValue& item : list->array)
    if (auto step = make(item)) steps.push_back(std::move(step));
  return steps;
}

}  // namespace nystrom::text
