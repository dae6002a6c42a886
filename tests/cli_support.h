// What the CLI tests share: the test checkpoints with the test tokenizer,
// converted by the tool once per process, running `nystrom`, and checking
// a one-line error.
#pragma once
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <string>

#include "cli_text_checkpoint.h"
#include "support.h"

namespace clitest {

// tests/data/hf/<name> with the test tokenizer, converted by nystrom-convert
// once per process: the .nyf path.
inline std::string converted(const std::string& name) {
  static test::TempDir dir;
  static std::map<std::string, std::string> done;
  auto it = done.find(name);
  if (it != done.end()) return it->second;
  const uint32_t vocab = name == "small-cls" ? 1000 : name == "tiny-exact" ? 300 : 512;
  const std::string folder = texttest::text_checkpoint(dir, name, texttest::tokenizer_json(vocab));
  const std::string out = dir / (name + ".nyf");
  const test::RunResult r = test::convert(folder, out);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return done[name] = out;
}

// test::tool(name) that still works after a cd.
inline std::string absolute_tool(const std::string& name) {
  char* real = ::realpath(test::build_dir().c_str(), nullptr);
  REQUIRE(real != nullptr);
  const std::string path = real;
  std::free(real);
  return test::tool_prefix() + path + "/" + name;
}

inline test::RunResult nystrom_cli(const std::string& args) { return test::run(test::tool("nystrom") + " " + args); }

// A one-line error on stderr holding phrase, exit status 1, nothing on stdout.
inline void check_error(const test::RunResult& r, const std::string& phrase) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(phrase) != std::string::npos);
  CHECK(test::lines_of(r.err).size() == 1);
  CHECK(r.out.empty());
}

}  // namespace clitest
