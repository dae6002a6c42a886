// What the text commands do the same way: their arguments and help, the
// head they need, their output lines and probabilities.
#pragma once
#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "../common/args.h"
#include "nystrom/nystrom.h"
#include "text_run.h"

namespace nystrom::cli {

// s and a newline on stdout; throws Error when stdout cannot be written.
void put_line(const std::string& s);
// Flushes stdout (after each input's answer); throws Error on failure.
void flush_output();
[[noreturn]] void throw_stdout_error();

// A name from the checkpoint (a label, a vocabulary token) for the plain
// output: backslash, newline, tab, CR and other control characters escaped
// (\\, \n, \t, \r, \xHH), so that one answer stays one line.
std::string escape_text(const std::string& s);

// A text command's help: its head, then the shared options, its own and
// the run options, the shared notes and its examples.
std::string usage_of(const char* head, const char* own_options, const char* examples);

// Parses a text command's arguments: the shared flags plus its own.
tools::Args text_args(int argc, char** argv, const std::set<std::string>& values,
                      const std::set<std::string>& switches);

// Prints usage when --help was given; whether it was.
bool show_help(const tools::Args& args, const std::string& usage);

// A command that needs a head says which one the model lacks.
void require_head(const TextRun& r, const tools::Args& args, HeadType want, const char* what);

// A probability in the plain output: a tab, then 4 decimals.
std::string prob_field(double p);

// Softmax of logits[0..n) in double: the probabilities, in order.
std::vector<double> softmax(const float* logits, size_t n);

// 1 / (1 + e^-x) in double, without overflow for any x.
double sigmoid(double x);

// A JSON array of numbers, 9 significant digits each.
std::string json_numbers(const double* v, size_t n);
std::string json_numbers(const float* v, size_t n);

}  // namespace nystrom::cli
