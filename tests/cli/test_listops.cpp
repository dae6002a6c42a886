// The shipped ListOps model (models/, trained by tools/train/train_listops.py)
// on 2000 held-out expressions it never saw (tests/data/listops/, made by
// tools/train/listops.py with its own seed), through `nystrom classify -f`.
#include <doctest/doctest.h>

#include "support.h"

namespace {

// The label column (first tab-separated field) of classify's output.
std::vector<std::string> labels_of(const std::string& classify_out) {
  std::vector<std::string> labels;
  for (const std::string& line : test::lines_of(classify_out)) labels.push_back(line.substr(0, line.find('\t')));
  return labels;
}

std::vector<std::string> classify(const std::string& model) {
  test::RunResult r = test::run(test::tool("nystrom") + " classify -m '" + model + "' -f tests/data/listops/heldout.txt");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return labels_of(r.out);
}

}  // namespace

TEST_CASE("listops: the converter reproduces models/listops.nyf from the exported checkpoint") {
  test::TempDir tmp;
  test::RunResult r =
      test::run(test::tool("nystrom-convert") + " models/listops-hf -o '" + (tmp / "q8.nyf") + "' --type q8_0");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(test::slurp(tmp / "q8.nyf") == test::slurp("models/listops.nyf"));
}

TEST_CASE("listops: >= 35% held-out accuracy (q8_0), and f32 agrees with q8_0 on >= 98%") {
  const std::vector<std::string> truth = test::lines_of(test::slurp("tests/data/listops/heldout_labels.txt"));
  REQUIRE(truth.size() == 2000);

  test::TempDir tmp;
  test::RunResult conv =
      test::run(test::tool("nystrom-convert") + " models/listops-hf -o '" + (tmp / "f32.nyf") + "' --type f32");
  INFO(conv.err);
  REQUIRE(conv.exit_code == 0);

  const std::vector<std::string> q8 = classify("models/listops.nyf");
  const std::vector<std::string> f32 = classify(tmp / "f32.nyf");
  REQUIRE(q8.size() == truth.size());
  REQUIRE(f32.size() == truth.size());

  int right = 0, agree = 0, right_f32 = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    right += q8[i] == truth[i];
    right_f32 += f32[i] == truth[i];
    agree += q8[i] == f32[i];
  }
  const double n = (double)truth.size();
  MESSAGE("held-out accuracy: q8_0 " << right / n << ", f32 " << right_f32 / n << "; agreement " << agree / n);
  CHECK(right / n >= 0.35);
  CHECK(agree / n >= 0.98);
}
