// The public converter (include/nystrom/convert.h): what convert_checkpoint
// writes and reports, its progress callback, its errors, and
// write_random_model.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli_text_checkpoint.h"
#include "convert/hf_checkpoint.h"
#include "format/model_file.h"
#include "nystrom/convert.h"
#include "nystrom/nystrom.h"
#include "small_config.h"
#include "support.h"

using nystrom::ConvertOptions;
using nystrom::ConvertProgress;
using nystrom::ConvertResult;
using nystrom::format::DType;
using Step = nystrom::ConvertProgress::Step;

namespace {

std::string hf(const std::string& name) { return test::testdata_dir() + "/" + name; }

}  // namespace

TEST_CASE("convert api: the file is byte for byte what the converter's steps write, and the summary tells it") {
  test::TempDir dir;
  ConvertOptions opt;
  opt.weight_type = DType::Q8_0;
  const ConvertResult r = nystrom::convert_checkpoint(hf("small-cls"), dir / "api.nyf", opt);

  // The same steps by hand (the internal converter nystrom-convert used to call).
  nystrom::Checkpoint ck = nystrom::read_hf_checkpoint(hf("small-cls"));
  nystrom::set_weight_type(ck, DType::Q8_0, nullptr, {}, nystrom::TypeRule::EmbeddingsAndHead);
  nystrom::write_model_file(dir / "steps.nyf", ck.config, ck.tensors);
  CHECK(test::slurp(dir / "api.nyf") == test::slurp(dir / "steps.nyf"));

  CHECK(r.tensor_count == ck.tensors.size());
  CHECK(r.file_bytes == test::slurp(dir / "api.nyf").size());
  CHECK(r.config.hidden_size == ck.config.hidden_size);
  CHECK(r.config.labels == ck.config.labels);
  size_t tensors = 0;
  uint64_t bytes = 0;
  for (size_t i = 0; i < r.by_type.size(); ++i) {
    if (i > 0) CHECK(r.by_type[i - 1].type < r.by_type[i].type);  // by name
    tensors += r.by_type[i].tensors;
    bytes += r.by_type[i].bytes;
  }
  CHECK(tensors == r.tensor_count);
  uint64_t expected_bytes = 0;
  for (const nystrom::TensorData& t : ck.tensors) expected_bytes += t.bytes.size();
  CHECK(bytes == expected_bytes);
  REQUIRE(r.by_type.size() == 3);
  CHECK(r.by_type[0].type == "f16");  // the classifier head
  CHECK(r.by_type[1].type == "f32");
  CHECK(r.by_type[2].type == "q8_0");
  CHECK(r.tokenizer_kind.empty());  // the test checkpoints hold no tokenizer files
  CHECK(r.tokenizer_files.empty());
}

TEST_CASE("convert api: the head is kept one step up (q8_0: f16, q4_0: q8_0), and q4_0's embeddings at q8_0, unless pure") {
  test::TempDir dir;
  ConvertOptions opt;
  opt.weight_type = DType::Q8_0;
  nystrom::convert_checkpoint(hf("small-cls"), dir / "q8.nyf", opt);
  opt.pure = true;
  nystrom::convert_checkpoint(hf("small-cls"), dir / "q8-pure.nyf", opt);
  const nystrom::ModelFile q8(dir / "q8.nyf"), q8_pure(dir / "q8-pure.nyf");
  for (const char* name : {"classifier.dense.weight", "classifier.out_proj.weight"}) {
    CAPTURE(name);
    CHECK(q8.find(name)->dtype == DType::F16);
    CHECK(q8_pure.find(name)->dtype == DType::Q8_0);
  }
  for (const char* name : {"embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight"}) {
    CAPTURE(name);
    CHECK(q8.find(name)->dtype == DType::Q8_0);
    CHECK(q8_pure.find(name)->dtype == DType::Q8_0);
  }

  opt.pure = false;
  opt.weight_type = DType::Q4_0;
  nystrom::convert_checkpoint(hf("small-cls"), dir / "mixed.nyf", opt);
  opt.pure = true;
  nystrom::convert_checkpoint(hf("small-cls"), dir / "pure.nyf", opt);
  const nystrom::ModelFile mixed(dir / "mixed.nyf"), pure(dir / "pure.nyf");
  for (const char* name : {"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                           "classifier.dense.weight", "classifier.out_proj.weight"}) {
    CAPTURE(name);
    CHECK(mixed.find(name)->dtype == DType::Q8_0);
    CHECK(pure.find(name)->dtype == DType::Q4_0);
  }
  for (const char* name : {"encoder.layer.0.attention.self.query.weight", "encoder.layer.1.output.dense.weight"}) {
    CAPTURE(name);
    CHECK(mixed.find(name)->dtype == DType::Q4_0);
    CHECK(pure.find(name)->dtype == DType::Q4_0);
  }
}

TEST_CASE("convert api: the tokenizer is embedded and described, or left out when the options say so") {
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "small-cls", texttest::tokenizer_json(1000));
  const ConvertResult with = nystrom::convert_checkpoint(folder, dir / "with.nyf");
  CHECK(with.tokenizer_kind == "WordLevel");
  CHECK(with.tokenizer_vocab_size == 1000);
  REQUIRE(with.mask_token.has_value());
  CHECK(*with.mask_token == "[MASK]");
  CHECK(with.tokenizer_files == std::vector<std::string>{"tokenizer.json"});
  CHECK(with.tokenizer_bytes == texttest::tokenizer_json(1000).size());
  CHECK(nystrom::Model::open(dir / "with.nyf")->has_tokenizer());

  ConvertOptions no_tok;
  no_tok.tokenizer = false;
  const ConvertResult without = nystrom::convert_checkpoint(folder, dir / "without.nyf", no_tok);
  CHECK(without.tokenizer_kind.empty());
  CHECK(without.tokenizer_files.empty());
  CHECK_FALSE(nystrom::Model::open(dir / "without.nyf")->has_tokenizer());

  // A tokenizer_config.json alone makes no tokenizer: named as left out.
  test::TempDir dir2;
  const std::string lone = texttest::text_checkpoint(dir2, "small-cls", "");
  test::write_file(lone + "/tokenizer_config.json", "{}");
  const ConvertResult ignored = nystrom::convert_checkpoint(lone, dir2 / "m.nyf");
  CHECK(ignored.ignored_tokenizer_files == std::vector<std::string>{"tokenizer_config.json"});
  CHECK(ignored.tokenizer_kind.empty());
}

TEST_CASE("convert api: progress goes through every step in order, tensor by tensor for the weights") {
  test::TempDir dir;
  const std::string folder = texttest::text_checkpoint(dir, "tiny-mlm", texttest::tokenizer_json(50));
  std::vector<ConvertProgress> seen;
  ConvertOptions opt;
  opt.weight_type = DType::F16;
  opt.progress = [&](const ConvertProgress& p) { seen.push_back(p); };
  const ConvertResult r = nystrom::convert_checkpoint(folder, dir / "m.nyf", opt);
  const size_t n = r.tensor_count;
  REQUIRE(seen.size() == 2 + 2 + (n + 1) + 2);
  auto is = [](const ConvertProgress& p, Step s, size_t done, size_t total) {
    return p.step == s && p.done == done && p.total == total;
  };
  CHECK(is(seen[0], Step::ReadCheckpoint, 0, 1));
  CHECK(is(seen[1], Step::ReadCheckpoint, 1, 1));
  CHECK(is(seen[2], Step::ReadTokenizer, 0, 1));
  CHECK(is(seen[3], Step::ReadTokenizer, 1, 1));
  for (size_t i = 0; i <= n; ++i) CHECK(is(seen[4 + i], Step::StoreWeights, i, n));
  CHECK(is(seen[seen.size() - 2], Step::WriteFile, 0, 1));
  CHECK(is(seen.back(), Step::WriteFile, 1, 1));

  seen.clear();
  opt.tokenizer = false;
  nystrom::convert_checkpoint(folder, dir / "m2.nyf", opt);
  REQUIRE(seen.size() == 2 + (n + 1) + 2);
  for (const ConvertProgress& p : seen) CHECK(p.step != Step::ReadTokenizer);
}

TEST_CASE("convert api: an exception from the progress callback stops the conversion and leaves no file") {
  test::TempDir dir;
  struct Stop {};
  for (Step stop_at : {Step::ReadCheckpoint, Step::StoreWeights, Step::WriteFile}) {
    CAPTURE(static_cast<int>(stop_at));
    ConvertOptions opt;
    opt.progress = [&](const ConvertProgress& p) {
      if (p.step == stop_at && p.done == 0) throw Stop{};
    };
    CHECK_THROWS_AS(nystrom::convert_checkpoint(hf("tiny-mlm"), dir / "m.nyf", opt), Stop);
    CHECK_FALSE(test::exists(dir / "m.nyf"));
  }
  // Stopping once the file is written (1 of 1) is too late to matter.
  ConvertOptions late;
  late.progress = [&](const ConvertProgress& p) {
    if (p.step == Step::WriteFile && p.done == 1) throw Stop{};
  };
  CHECK_THROWS_AS(nystrom::convert_checkpoint(hf("tiny-mlm"), dir / "late.nyf", late), Stop);
}

TEST_CASE("convert api: failures are one-line nystrom::Errors naming the problem, and write nothing") {
  test::TempDir dir;
  const std::string missing = test::error_of([&] { nystrom::convert_checkpoint(dir / "nope", dir / "m.nyf"); });
  CHECK(missing.find("no such folder") != std::string::npos);
  CHECK(missing.find('\n') == std::string::npos);

  ConvertOptions bad_type;
  bad_type.weight_type = static_cast<DType>(9);
  CHECK(test::error_of([&] { nystrom::convert_checkpoint(hf("tiny-mlm"), dir / "m.nyf", bad_type); })
            .find("unknown weight type") != std::string::npos);

  const std::string unwritable =
      test::error_of([&] { nystrom::convert_checkpoint(hf("tiny-mlm"), dir / "no-such-dir/m.nyf"); });
  CHECK(unwritable != "(no error)");
  CHECK_FALSE(test::exists(dir / "m.nyf"));
}

TEST_CASE("convert api: write_random_model writes a loadable model of the configuration, the same for a seed") {
  test::TempDir dir;
  nystrom::ModelConfig c = test::small_config(32, nystrom::HeadType::Classifier);
  nystrom::write_random_model(dir / "a.nyf", c, 5);
  nystrom::write_random_model(dir / "b.nyf", c, 5);
  nystrom::write_random_model(dir / "c.nyf", c, 6);
  CHECK(test::slurp(dir / "a.nyf") == test::slurp(dir / "b.nyf"));
  CHECK(test::slurp(dir / "a.nyf") != test::slurp(dir / "c.nyf"));
  auto model = nystrom::Model::open(dir / "a.nyf");
  CHECK(model->config().labels == c.labels);
  nystrom::Session s(model);
  const nystrom::Output out = s.run({2, 5, 1});
  CHECK(out.logits.size() == 3);

  nystrom::write_random_model(dir / "q.nyf", c, 5, DType::Q4_0);
  const nystrom::ModelFile q(dir / "q.nyf");
  CHECK(q.find("encoder.layer.0.attention.self.query.weight")->dtype == DType::Q4_0);
  CHECK(q.find("embeddings.word_embeddings.weight")->dtype == DType::Q8_0);  // the converter's q4_0 rule
  CHECK(q.find("classifier.out_proj.weight")->dtype == DType::Q8_0);
  CHECK(q.find("encoder.layer.0.attention.output.LayerNorm.weight")->dtype == DType::F32);

  c.num_heads = 3;  // does not divide hidden_size
  CHECK(test::error_of([&] { nystrom::write_random_model(dir / "bad.nyf", c); }).find("num_attention_heads") !=
        std::string::npos);
  CHECK_FALSE(test::exists(dir / "bad.nyf"));
}
