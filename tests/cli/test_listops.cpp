// The shipped ListOps model (models/, trained by tools/train/train_listops.py)
// on held-out expressions it never saw (tests/data/listops/, made by
// tools/train/listops.py with seeds of their own), through the tools as a
// user runs them. The figures are the ones models/README.md reports; each
// check sits just under its measured value, so a model, kernel or
// tokenizer change that costs answers fails here.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "support.h"

namespace {

const char* const kFresh = "tests/data/listops/fresh.txt";  // seed 20261202: never used in training or selection
const char* const kFreshLabels = "tests/data/listops/fresh_labels.txt";
const char* const kOld = "tests/data/listops/heldout.txt";  // seed 20261128: the first model's test set,
const char* const kOldLabels = "tests/data/listops/heldout_labels.txt";  // the selection set of the second

// The label column (first tab-separated field) of classify's output.
std::vector<std::string> labels_of(const std::string& classify_out) {
  std::vector<std::string> labels;
  for (const std::string& line : test::lines_of(classify_out)) labels.push_back(line.substr(0, line.find('\t')));
  return labels;
}

// Each model's answers on each set are computed once per process: two cases
// compare against f32's on both sets, 2000 classifications each.
std::vector<std::string> classify(const std::string& model, const char* inputs) {
  static std::map<std::pair<std::string, std::string>, std::vector<std::string>> done;
  const auto key = std::make_pair(model, std::string(inputs));
  const auto found = done.find(key);
  if (found != done.end()) return found->second;
  test::RunResult r =
      test::run(test::tool("nystrom") + " classify --threads 2 -m '" + model + "' -f " + inputs);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return done[key] = labels_of(r.out);
}

size_t same(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  REQUIRE(a.size() == b.size());
  size_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] == b[i];
  return n;
}

// The checkpoint converted to one type, once per process (into a folder
// that lives as long), so that classify's cache knows the file again.
std::string converted(const char* type, const std::string& flags = "") {
  static const test::TempDir tmp;
  static std::set<std::string> done;
  const std::string out = tmp / (std::string(type) + flags + ".nyf");
  if (done.count(out)) return out;
  test::RunResult r =
      test::run(test::tool("nystrom-convert") + " models/listops-hf -o '" + out + "' --type " + type + " " + flags);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  done.insert(out);
  return out;
}

// A number field of one compare-attention --json line.
double number_field(const std::string& line, const std::string& key) {
  const size_t at = line.find("\"" + key + "\": ");
  REQUIRE(at != std::string::npos);
  return std::strtod(line.c_str() + at + key.size() + 4, nullptr);
}

// The "prediction" of the "exact" or "nystrom" object of one --json line.
std::string prediction_of(const std::string& line, const std::string& which) {
  const std::string key = "\"" + which + "\": {\"prediction\": \"";
  const size_t at = line.find(key);
  REQUIRE(at != std::string::npos);
  const size_t begin = at + key.size();
  return line.substr(begin, line.find('"', begin) - begin);
}

}  // namespace

TEST_CASE("listops: the converter reproduces models/listops.nyf from the exported checkpoint") {
  CHECK(test::slurp(converted("q8_0")) == test::slurp("models/listops.nyf"));
}

TEST_CASE("listops: above the paper's 37.15% on fresh held-out expressions, and 8-bit answers are f32's") {
  const std::vector<std::string> fresh = test::lines_of(test::slurp(kFreshLabels));
  const std::vector<std::string> old = test::lines_of(test::slurp(kOldLabels));
  REQUIRE(fresh.size() == 2000);
  REQUIRE(old.size() == 2000);

  const std::vector<std::string> q8 = classify("models/listops.nyf", kFresh);
  const std::vector<std::string> f32 = classify(converted("f32"), kFresh);
  const std::vector<std::string> f16 = classify(converted("f16"), kFresh);
  const std::vector<std::string> q8c = classify(converted("q8_c"), kFresh);
  const std::vector<std::string> q8_old = classify("models/listops.nyf", kOld);

  // Measured: q8_0 764 of 2000 (38.20%) on the fresh set and 725 (36.25%)
  // on the old one, f32 763 and 724.
  MESSAGE("fresh held-out: q8_0 " << same(q8, fresh) << ", f32 " << same(f32, fresh) << " of 2000; old: q8_0 "
                                  << same(q8_old, old));
  CHECK(same(q8, fresh) >= 743);  // 37.15%
  CHECK(same(f32, fresh) >= 743);
  CHECK(same(q8_old, old) >= 715);
  // 8-bit weights answer as f32 does on >= 99.5% (measured: q8_0, whose
  // classifier head is f16, 1996 of 2000 on both sets; f16 2000 and 1999),
  // and as accurately, within half a point (10 answers).
  const std::vector<std::string> f32_old = classify(converted("f32"), kOld);
  const std::vector<std::string> f16_old = classify(converted("f16"), kOld);
  MESSAGE("agreement with f32: q8_0 " << same(q8, f32) << " fresh, " << same(q8_old, f32_old) << " old; f16 "
                                      << same(f16, f32) << " fresh, " << same(f16_old, f32_old) << " old, of 2000");
  CHECK(same(q8, f32) >= 1990);
  CHECK(same(q8_old, f32_old) >= 1990);
  CHECK(same(f16, f32) >= 1990);
  CHECK(same(f16_old, f32_old) >= 1990);
  const long right_f32 = (long)same(f32, fresh), right_f32_old = (long)same(f32_old, old);
  CHECK(std::labs((long)same(q8, fresh) - right_f32) <= 10);
  CHECK(std::labs((long)same(f16, fresh) - right_f32) <= 10);
  CHECK(std::labs((long)same(q8_old, old) - right_f32_old) <= 10);
  CHECK(std::labs((long)same(f16_old, old) - right_f32_old) <= 10);
  // q8_c (per-row scales, its head f16 likewise): measured 1995 of 2000.
  MESSAGE("agreement with f32: q8_c " << same(q8c, f32) << " fresh; q8_c right on " << same(q8c, fresh));
  CHECK(same(q8c, f32) >= 1990);
  CHECK(std::labs((long)same(q8c, fresh) - right_f32) <= 10);
}

TEST_CASE("listops: bf16 Nystrom products answer as f32 ones on >= 99.5% of fresh held-out expressions") {
  const std::vector<std::string> truth = test::lines_of(test::slurp(kFreshLabels));
  const std::vector<std::string> f32 = classify("models/listops.nyf", kFresh);
  test::RunResult r = test::run(test::tool("nystrom") +
                                " classify --threads 2 --attention-precision bf16 -m models/listops.nyf -f " + kFresh);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> bf16 = labels_of(r.out);
  // Measured (2026-12-04): 1999 of 2000 the same answer, 764 right either way.
  MESSAGE("bf16 attention: " << same(bf16, f32) << " of 2000 as f32 attention; right on " << same(bf16, truth)
                             << " (f32 " << same(f32, truth) << ")");
  CHECK(same(bf16, f32) >= 1990);
  CHECK(std::labs((long)same(bf16, truth) - (long)same(f32, truth)) <= 10);
}

TEST_CASE("listops: exact attention answers as well as Nystrom, and their last hidden states nearly agree") {
  const std::vector<std::string> truth = test::lines_of(test::slurp(kFreshLabels));
  test::RunResult r = test::run(test::tool("nystrom") +
                                " compare-attention --json --threads 2 --landmarks 64 -m models/listops.nyf -f " + kFresh);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = test::lines_of(r.out);
  REQUIRE(lines.size() == truth.size());
  std::vector<std::string> exact, nystrom;
  double cosine_sum = 0, lowest = 1;
  for (const std::string& line : lines) {
    exact.push_back(prediction_of(line, "exact"));
    nystrom.push_back(prediction_of(line, "nystrom"));
    const double c = number_field(line, "cosine");
    cosine_sum += c;
    lowest = std::min(lowest, c);
  }
  const double mean = cosine_sum / (double)lines.size();
  // Measured: exact 768 of 2000 (38.40%), Nystrom 764; the same answer on
  // 1939 (97.0%); cosine mean 0.99964, lowest 0.99901.
  MESSAGE("exact " << same(exact, truth) << ", nystrom " << same(nystrom, truth) << " of 2000; same answer "
                   << same(exact, nystrom) << "; cosine mean " << mean << ", lowest " << lowest);
  CHECK(same(nystrom, truth) >= 743);
  CHECK(same(exact, truth) >= 743);
  CHECK(same(exact, nystrom) >= 1920);
  CHECK(mean >= 0.9995);
  CHECK(lowest >= 0.998);
}

// q4_0 keeps the embedding tables and the classifier head at q8_0: with the
// head 4-bit too, 1921 fresh and 1923 old answers were f32's; each other
// group of matrices kept at 8 bits alone left 1919-1927 (models/README.md).
TEST_CASE("listops: q4_0 with its head at 8 bits answers as f32 does on both held-out sets; pure q4_0 does not") {
  const std::vector<std::string> fresh = test::lines_of(test::slurp(kFreshLabels));
  const std::vector<std::string> old = test::lines_of(test::slurp(kOldLabels));
  const std::string f32 = converted("f32"), q4 = converted("q4_0"), pure = converted("q4_0", "--pure");
  const std::vector<std::string> f32_fresh = classify(f32, kFresh), f32_old = classify(f32, kOld);
  const std::vector<std::string> q4_fresh = classify(q4, kFresh), q4_old = classify(q4, kOld);
  const std::vector<std::string> pure_fresh = classify(pure, kFresh);

  // The encoder's matrices are 4-bit in both (198 KB and 129 KB against
  // q8_0's 235 KB); the default keeps the embedding tables and the
  // classifier head at q8_0. Measured: 1984 of 2000 fresh and 1987 old
  // answers as f32's (765 and 724 right against f32's 763 and 724);
  // --pure 1947 fresh.
  CHECK(test::slurp(q4).size() < test::slurp(converted("q8_0")).size() * 7 / 8);
  CHECK(test::slurp(pure).size() < test::slurp(q4).size() * 3 / 4);
  MESSAGE("agreement with f32: q4_0 " << same(q4_fresh, f32_fresh) << " fresh, " << same(q4_old, f32_old)
                                      << " old; q4_0 --pure " << same(pure_fresh, f32_fresh) << " fresh, of 2000");
  CHECK(same(q4_fresh, f32_fresh) >= 1980);  // 99%
  CHECK(same(q4_old, f32_old) >= 1980);
  // Accuracy within half a point (10 answers) of f32's.
  CHECK(std::labs((long)same(q4_fresh, fresh) - (long)same(f32_fresh, fresh)) <= 10);
  CHECK(std::labs((long)same(q4_old, old) - (long)same(f32_old, old)) <= 10);
}
