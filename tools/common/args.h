// A small command-line parser shared by the tools: flags with values, boolean
// switches and positionals, with one-line errors and exit code 2 for misuse.
#pragma once
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace nystrom::tools {

constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

struct UsageError {
  std::string message;
};

class Args {
 public:
  // value_flags take a value ("-m X", "--model X" or "--model=X");
  // switches take none. aliases maps a short form to its long form.
  Args(int argc, char** argv, int first, const std::set<std::string>& value_flags,
       const std::set<std::string>& switches, const std::map<std::string, std::string>& aliases = {}) {
    for (int i = first; i < argc; ++i) {
      std::string a = argv[i];
      if (a.size() > 1 && a[0] == '-' && !positional_only_) {
        if (a == "--") {
          positional_only_ = true;
          continue;
        }
        std::string value;
        bool has_value = false;
        if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
          value = a.substr(eq + 1), a = a.substr(0, eq), has_value = true;
        }
        if (auto al = aliases.find(a); al != aliases.end()) a = al->second;
        if (switches.count(a)) {
          if (has_value) throw UsageError{a + " takes no value"};
          switches_.insert(a);
        } else if (value_flags.count(a)) {
          if (!has_value) {
            if (i + 1 >= argc) throw UsageError{a + " needs a value"};
            value = argv[++i];
          }
          if (values_.count(a)) throw UsageError{a + " given twice"};
          values_[a] = value;
        } else {
          throw UsageError{"unknown option " + a};
        }
      } else {
        positionals_.push_back(a);
      }
    }
  }

  bool has(const std::string& flag) const { return switches_.count(flag) || values_.count(flag); }
  std::string get(const std::string& flag, const std::string& fallback = "") const {
    auto it = values_.find(flag);
    return it == values_.end() ? fallback : it->second;
  }
  std::string require(const std::string& flag) const {
    auto it = values_.find(flag);
    if (it == values_.end()) throw UsageError{"missing required option " + flag};
    return it->second;
  }
  // A non-negative integer in [lo, hi].
  long get_int(const std::string& flag, long fallback, long lo, long hi) const {
    auto it = values_.find(flag);
    if (it == values_.end()) return fallback;
    const std::string& s = it->second;
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < lo || v > hi)
      throw UsageError{flag + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
                       ", got '" + s + "'"};
    return v;
  }
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  bool positional_only_ = false;
  std::map<std::string, std::string> values_;
  std::set<std::string> switches_;
  std::vector<std::string> positionals_;
};

}  // namespace nystrom::tools
