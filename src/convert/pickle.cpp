#include "convert/pickle.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "runtime/error.h"

namespace nystrom {
namespace pickle {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Call: return "call";
    case Kind::PersistentId: return "persistent id";
  }
  return "?";
}

const std::string& Value::call_name() const {
  static const std::string empty;
  return kind == Kind::Call && !items.empty() ? items[0]->text : empty;
}

namespace {

// Opcodes, as Python's pickle module names them.
enum Op : uint8_t {
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  BINFLOAT = 'G',
  BININT = 'J',
  BININT1 = 'K',
  BININT2 = 'M',
  NONE = 'N',
  BINPERSID = 'Q',
  REDUCE = 'R',
  BINUNICODE = 'X',
  EMPTY_LIST = ']',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  DICT = 'd',
  APPENDS = 'e',
  BINGET = 'h',
  LONG_BINGET = 'j',
  LIST = 'l',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  SETITEMS = 'u',
  EMPTY_DICT = '}',
  EMPTY_TUPLE = ')',
  PROTO = 0x80,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95,
};

const char* op_name(uint8_t op) {
  switch (op) {
    case MARK: return "MARK";
    case STOP: return "STOP";
    case POP: return "POP";
    case POP_MARK: return "POP_MARK";
    case DUP: return "DUP";
    case BINFLOAT: return "BINFLOAT";
    case BININT: return "BININT";
    case BININT1: return "BININT1";
    case BININT2: return "BININT2";
    case NONE: return "NONE";
    case BINPERSID: return "BINPERSID";
    case REDUCE: return "REDUCE";
    case BINUNICODE: return "BINUNICODE";
    case EMPTY_LIST: return "EMPTY_LIST";
    case APPEND: return "APPEND";
    case BUILD: return "BUILD";
    case GLOBAL: return "GLOBAL";
    case DICT: return "DICT";
    case APPENDS: return "APPENDS";
    case BINGET: return "BINGET";
    case LONG_BINGET: return "LONG_BINGET";
    case LIST: return "LIST";
    case BINPUT: return "BINPUT";
    case LONG_BINPUT: return "LONG_BINPUT";
    case SETITEM: return "SETITEM";
    case TUPLE: return "TUPLE";
    case SETITEMS: return "SETITEMS";
    case EMPTY_DICT: return "EMPTY_DICT";
    case EMPTY_TUPLE: return "EMPTY_TUPLE";
    case PROTO: return "PROTO";
    case TUPLE1: return "TUPLE1";
    case TUPLE2: return "TUPLE2";
    case TUPLE3: return "TUPLE3";
    case NEWTRUE: return "NEWTRUE";
    case NEWFALSE: return "NEWFALSE";
    case LONG1: return "LONG1";
    case SHORT_BINUNICODE: return "SHORT_BINUNICODE";
    case BINUNICODE8: return "BINUNICODE8";
    case STACK_GLOBAL: return "STACK_GLOBAL";
    case MEMOIZE: return "MEMOIZE";
    case FRAME: return "FRAME";
    default: return nullptr;
  }
}

// A name from the pickle made safe for a one-line message.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 200) out += "...";
  return out;
}

class Machine {
 public:
  Machine(std::string_view program, const std::vector<std::string>& allowed, const std::string& source,
          const Limits& limits, std::deque<Value>& arena)
      : p_(program), allowed_(allowed), source_(source), limits_(limits), arena_(arena) {}

  const Value* run() {
    while (true) {
      if (pos_ >= p_.size()) fail(source_, ": pickle: ended without STOP at offset ", pos_, " (truncated?)");
      op_at_ = pos_;
      op_ = uint8_t(p_[pos_++]);
      if (op_ == STOP) break;
      step();
      if (stack_.size() + marks_.size() > limits_.max_stack)
        error("the stack is deeper than the limit of ", limits_.max_stack);
    }
    if (!marks_.empty()) error("a MARK is still open");
    if (stack_.size() != 1) error(stack_.empty() ? "the stack is empty" : "more than one value is left on the stack");
    return stack_.back();
  }

 private:
  template <typename... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    const char* name = op_name(op_);
    fail(source_, ": pickle: ", parts..., " (", name ? name : "opcode", " at offset ", op_at_, ")");
  }

  // --- reading arguments -------------------------------------------------
  std::string_view take(uint64_t n) {
    if (n > p_.size() - pos_) error("its argument (", n, " bytes) runs past the end of the pickle");
    std::string_view s = p_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  uint64_t uint_le(int bytes) {
    std::string_view s = take(bytes);
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | uint8_t(s[i]);
    return v;
  }
  std::string_view line() {
    const size_t end = p_.find('\n', pos_);
    if (end == std::string_view::npos) error("its text argument has no end of line");
    std::string_view s = p_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  // --- working memory -----------------------------------------------------
  // Bytes of heap this machine has made; a block costs its size plus the
  // allocator's header, and a growing vector is counted at twice its size.
  static constexpr size_t kBlockOverhead = 16;
  void charge(size_t bytes) {
    used_ += bytes;
    if (used_ > limits_.max_memory)
      error("building it would take more than the limit of ", limits_.max_memory >> 20,
            " MiB of working memory");
  }
  void charge_items(size_t count) { charge(2 * count * sizeof(const Value*)); }

  // --- values --------------------------------------------------------------
  Value* make(Kind kind) {
    charge(sizeof(Value) + kBlockOverhead);
    arena_.emplace_back();
    arena_.back().kind = kind;
    return &arena_.back();
  }
  void push(const Value* v) { stack_.push_back(v); }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  const Value* pop() {
    if (stack_.size() <= floor()) error("stack underflow");
    const Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  const Value* top() const {
    if (stack_.size() <= floor()) error("stack underflow");
    return stack_.back();
  }
  // The values pushed since the last MARK, which is closed.
  std::vector<const Value*> pop_mark() {
    if (marks_.empty()) error("no MARK to pop to");
    const size_t at = marks_.back();
    marks_.pop_back();
    std::vector<const Value*> items(stack_.begin() + at, stack_.end());
    stack_.resize(at);
    return items;
  }
  // A value on the stack that this opcode is going to modify.
  Value* target(Kind kind) {
    const Value* v = top();
    if (v->kind != kind) error("expected a ", kind_name(kind), " to modify, found a ", kind_name(v->kind));
    // Every Dict and List was made by this machine in its arena.
    return const_cast<Value*>(v);
  }

  void push_tuple(std::vector<const Value*> items) {
    charge_items(items.size());
    Value* t = make(Kind::Tuple);
    t->items = std::move(items);
    push(t);
  }
  void push_int(int64_t v) {
    Value* x = make(Kind::Int);
    x->integer = v;
    push(x);
  }
  void push_string(std::string_view s) {
    if (s.size() > 15) charge(s.size() + 1 + kBlockOverhead);  // beyond the short-string buffer
    Value* x = make(Kind::String);
    x->text.assign(s.data(), s.size());
    push(x);
  }
  void push_global(std::string_view module, std::string_view name) {
    std::string full = std::string(module) + " " + std::string(name);
    if (std::find(allowed_.begin(), allowed_.end(), full) == allowed_.end())
      error("refusing to load global '", printable(full), "'");
    charge(full.size() + 1 + kBlockOverhead);
    Value* g = make(Kind::Global);
    g->text = std::move(full);
    push(g);
  }

  void memo_put(uint64_t key) {
    const Value* v = top();
    auto it = memo_.find(key);
    if (it != memo_.end()) {
      it->second = v;
      return;
    }
    if (memo_.size() >= limits_.max_memo) error("the memo holds more than the limit of ", limits_.max_memo, " values");
    charge(4 * sizeof(void*) + kBlockOverhead);  // a hash node and its bucket
    memo_.emplace(key, v);
  }
  void memo_get(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) error("memo key ", key, " was never stored");
    push(it->second);
  }

  void set_items(Value* dict, const std::vector<const Value*>& kv) {
    if (kv.size() % 2) error("an odd number of values (", kv.size(), ") for keys and values");
    charge_items(kv.size());
    for (size_t i = 0; i < kv.size(); i += 2) dict->entries.emplace_back(kv[i], kv[i + 1]);
  }

  void step() {
    switch (op_) {
      case PROTO: {
        const uint64_t v = uint_le(1);
        if (v > 5) error("unsupported protocol ", v);
        break;
      }
      case FRAME:  // protocol 4 framing: a length to check, no meaning here
        if (uint_le(8) > p_.size() - pos_) error("the frame runs past the end of the pickle");
        break;
      case MARK:
        marks_.push_back(stack_.size());
        break;
      case POP:
        pop();
        break;
      case POP_MARK:
        pop_mark();
        break;
      case DUP:
        push(top());
        break;

      case NONE: push(make(Kind::None)); break;
      case NEWTRUE:
      case NEWFALSE: {
        Value* b = make(Kind::Bool);
        b->boolean = op_ == NEWTRUE;
        push(b);
        break;
      }
      case BININT: push_int(int32_t(uint32_t(uint_le(4)))); break;
      case BININT1: push_int(int64_t(uint_le(1))); break;
      case BININT2: push_int(int64_t(uint_le(2))); break;
      case LONG1: {
        const uint64_t n = uint_le(1);
        if (n > 8) error("an integer of ", n, " bytes does not fit in 64 bits");
        uint64_t v = n ? uint_le(int(n)) : 0;
        if (n && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);  // sign-extend
        push_int(int64_t(v));
        break;
      }
      case BINFLOAT: {
        const std::string_view s = take(8);  // big-endian IEEE double
        uint64_t bits = 0;
        for (char c : s) bits = (bits << 8) | uint8_t(c);
        Value* f = make(Kind::Float);
        std::memcpy(&f->number, &bits, 8);
        push(f);
        break;
      }
      case BINUNICODE: push_string(take(uint_le(4))); break;
      case SHORT_BINUNICODE: push_string(take(uint_le(1))); break;
      case BINUNICODE8: push_string(take(uint_le(8))); break;

      case EMPTY_TUPLE: push_tuple({}); break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const size_t n = size_t(op_ - TUPLE1 + 1);
        if (stack_.size() < floor() + n) error("stack underflow");
        std::vector<const Value*> items(stack_.end() - n, stack_.end());
        stack_.resize(stack_.size() - n);
        push_tuple(std::move(items));
        break;
      }
      case TUPLE: push_tuple(pop_mark()); break;
      case EMPTY_LIST: push(make(Kind::List)); break;
      case LIST: {
        std::vector<const Value*> items = pop_mark();
        charge_items(items.size());
        Value* l = make(Kind::List);
        l->items = std::move(items);
        push(l);
        break;
      }
      case EMPTY_DICT: push(make(Kind::Dict)); break;
      case DICT: {
        std::vector<const Value*> kv = pop_mark();
        Value* d = make(Kind::Dict);
        set_items(d, kv);
        push(d);
        break;
      }
      case APPEND: {
        const Value* v = pop();
        charge_items(1);
        target(Kind::List)->items.push_back(v);
        break;
      }
      case APPENDS: {
        std::vector<const Value*> items = pop_mark();
        charge_items(items.size());
        Value* l = target(Kind::List);
        l->items.insert(l->items.end(), items.begin(), items.end());
        break;
      }
      case SETITEM: {
        const Value* v = pop();
        const Value* k = pop();
        charge_items(2);
        target(Kind::Dict)->entries.emplace_back(k, v);
        break;
      }
      case SETITEMS: {
        std::vector<const Value*> kv = pop_mark();
        set_items(target(Kind::Dict), kv);
        break;
      }

      case BINPUT: memo_put(uint_le(1)); break;
      case LONG_BINPUT: memo_put(uint_le(4)); break;
      case MEMOIZE: memo_put(memo_.size()); break;
      case BINGET: memo_get(uint_le(1)); break;
      case LONG_BINGET: memo_get(uint_le(4)); break;

      case GLOBAL: {
        const std::string_view module = line();
        const std::string_view name = line();
        push_global(module, name);
        break;
      }
      case STACK_GLOBAL: {
        const Value* name = pop();
        const Value* module = pop();
        if (!module->is(Kind::String) || !name->is(Kind::String)) error("module and name must be strings");
        push_global(module->text, name->text);
        break;
      }
      case REDUCE: {
        const Value* args = pop();
        const Value* callable = pop();
        if (!callable->is(Kind::Global)) error("cannot call a ", kind_name(callable->kind));
        if (!args->is(Kind::Tuple)) error("the arguments of ", callable->text, " must be a tuple");
        if (callable->text == "collections OrderedDict") {
          if (!args->items.empty()) error("collections.OrderedDict is only supported without arguments");
          push(make(Kind::Dict));
        } else {
          charge_items(2);
          Value* call = make(Kind::Call);
          call->items = {callable, args};
          push(call);
        }
        break;
      }
      case BUILD: {
        const Value* state = pop();
        const Value* obj = top();
        if (obj->is(Kind::Dict)) break;  // torch's OrderedDict `_metadata`: not needed
        if (!obj->is(Kind::Call)) error("cannot set the state of a ", kind_name(obj->kind));
        Value* call = const_cast<Value*>(obj);  // made by this machine in its arena
        if (call->items.size() != 2) error("the state of ", call->call_name(), " is set twice");
        charge_items(1);
        call->items.push_back(state);
        break;
      }
      case BINPERSID: {
        const Value* id = pop();
        charge_items(1);
        Value* v = make(Kind::PersistentId);
        v->items = {id};
        push(v);
        break;
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op_);
        fail(source_, ": pickle: unknown or unsupported opcode ", hex,
             (op_ >= 0x20 && op_ < 0x7f) ? std::string(" '") + char(op_) + "'" : std::string(), " at offset ",
             op_at_);
      }
    }
  }

  std::string_view p_;
  size_t pos_ = 0, op_at_ = 0;
  uint8_t op_ = 0;
  const std::vector<std::string>& allowed_;
  const std::string& source_;
  const Limits& limits_;
  std::deque<Value>& arena_;
  std::vector<const Value*> stack_;
  std::vector<size_t> marks_;  // stack sizes at each open MARK
  std::unordered_map<uint64_t, const Value*> memo_;
  size_t used_ = 0;
};

}  // namespace

Pickle::Pickle(std::string_view program, const std::vector<std::string>& allowed_globals, const std::string& source,
               const Limits& limits) {
  Machine m(program, allowed_globals, source, limits, arena_);
  root_ = m.run();
}

}  // namespace pickle
}  // namespace nystrom
