#include "text_common.h"

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../common/json_out.h"
#include "run_options.h"
#include "text_input.h"

namespace nystrom::cli {

void put_line(const std::string& s) {
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fputc('\n', stdout) == EOF)
    throw_stdout_error();
}

void flush_output() {
  if (std::fflush(stdout) != 0) throw_stdout_error();
}

void throw_stdout_error() {
  // A reader that went away (EPIPE with SIGPIPE ignored) or a full disk:
  // stop now rather than compute answers nobody can read.
  throw Error(std::string("cannot write standard output: ") + std::strerror(errno));
}

std::string escape_text(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const unsigned char c = (unsigned char)ch;
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += ch;
    }
  }
  return out;
}

std::string usage_of(const char* head, const char* own_options, const char* examples) {
  return std::string(head) + "\noptions:\n" + kTextInputHelp + own_options + kRunOptionsHelp +
         "  -h, --help              show this help\n\n" + kTextCommonHelp + "\nexamples:\n" + examples;
}

tools::Args text_args(int argc, char** argv, const std::set<std::string>& values,
                      const std::set<std::string>& switches) {
  return tools::Args(argc, argv, 2, with(with(text_value_flags(), run_value_flags()), values),
                     with(with(text_switches(), run_switches()), switches), text_aliases());
}

bool show_help(const tools::Args& args, const std::string& usage) {
  if (args.has("--help")) std::fputs(usage.c_str(), stdout);
  return args.has("--help");
}

static const char* head_name(HeadType h) {
  switch (h) {
    case HeadType::None: return "a bare encoder";
    case HeadType::MaskedLM: return "a masked-LM model";
    case HeadType::Classifier: return "a classifier";
  }
  return "unknown";
}

void require_head(const TextRun& r, const tools::Args& args, HeadType want, const char* what) {
  const HeadType has = r.model->config().head;
  if (has != want) throw Error(args.get("--model") + " has no " + what + " head (it is " + head_name(has) + ")");
}

std::string prob_field(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "\t%.4f", p);
  return buf;
}

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

template <typename T>
static std::string numbers(const T* v, size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i) s += (i ? ", " : "") + tools::json_number(v[i]);
  return s + "]";
}
std::string json_numbers(const double* v, size_t n) { return numbers(v, n); }
std::string json_numbers(const float* v, size_t n) { return numbers(v, n); }

std::vector<double> softmax(const float* logits, size_t n) {
  const float top = *std::max_element(logits, logits + n);
  std::vector<double> p(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp((double)logits[i] - top);
  for (double& x : p) x /= sum;
  return p;
}

}  // namespace nystrom::cli
