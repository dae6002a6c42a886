// An interpreter for the subset of Python's pickle protocol (2, with the few
// protocol 4 opcodes a newer writer may add) that a PyTorch state dict uses.
// It only builds values: nothing is ever imported, called or executed.
//
// GLOBAL names a Python object; only names on the caller's allow-list are
// accepted, anything else fails with "pickle: refusing to load global 'os
// system'". REDUCE of `collections OrderedDict` with no arguments gives an
// empty Dict; REDUCE of any other allowed global gives a Call value recording
// the callable and its argument tuple, for the caller to interpret. BUILD on
// a Dict ignores the state (torch attaches `_metadata` to its OrderedDict);
// BUILD on a Call records it. BINPERSID gives a PersistentId value holding
// the id. Memo entries and repeated BINGETs share one value, so a tensor
// written once and referenced twice (a tied weight) is one Call.
//
// Malformed input (unknown opcode, stack underflow, a missing MARK, a memo
// key never stored, an argument running past the end, limits exceeded) fails
// with an Error naming the source, the problem and the byte offset.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nystrom {
namespace pickle {

enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Call, PersistentId };

// "None", "bool", "int", ... for messages.
const char* kind_name(Kind kind);

struct Value {
  Kind kind = Kind::None;
  bool boolean = false;  // Bool
  int64_t integer = 0;   // Int
  double number = 0;     // Float
  std::string text;      // String; Global: "module name"
  // Tuple, List: the elements. Call: {callable (a Global), arguments (a
  // Tuple)} then the BUILD state if any. PersistentId: {the id}.
  std::vector<const Value*> items;
  // Dict: every SETITEM in order (a repeated key appears twice).
  std::vector<std::pair<const Value*, const Value*>> entries;

  bool is(Kind k) const { return kind == k; }
  // The callable's name of a Call ("module name"); empty otherwise.
  const std::string& call_name() const;
};

struct Limits {
  size_t max_stack = size_t(1) << 20;  // values on the stack plus open MARKs
  size_t max_memo = size_t(1) << 22;   // distinct memo keys
  // Working memory, in bytes: every value, string, list slot and memo entry
  // built is counted (with the allocator's overhead, on the high side), so
  // a few bytes of opcodes that each build a value cannot take the machine's
  // memory. The checkpoint reader raises it to 8x the file's size.
  size_t max_memory = size_t(64) << 20;
};

class Pickle {
 public:
  // Runs the program to its STOP. allowed_globals lists "module name" strings;
  // source names the pickle in messages.
  Pickle(std::string_view program, const std::vector<std::string>& allowed_globals, const std::string& source,
         const Limits& limits = Limits());

  // Values point into this object: copying is disabled, moving keeps them.
  Pickle(const Pickle&) = delete;
  Pickle& operator=(const Pickle&) = delete;
  Pickle(Pickle&&) = default;
  Pickle& operator=(Pickle&&) = default;

  const Value& root() const { return *root_; }

 private:
  std::deque<Value> arena_;  // every value; a deque never moves its elements
  const Value* root_ = nullptr;
};

}  // namespace pickle
}  // namespace nystrom
