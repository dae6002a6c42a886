// A checkpoint folder laid out as the published uw-madison/nystromformer-512
// and -4096 repositories of the Hugging Face hub, made here at a small size:
// config.json with every key theirs holds (their attention settings, small
// sizes), pytorch_model.bin alone (torch.save's zip; the tensors named as
// transformers' NystromformerForMaskedLM names them, the decoder tied to
// the word embeddings, the int64 position_ids buffer), an ALBERT-style
// spiece.model trained here with spm_train, and their tokenizer_config.json
// and special_tokens_map.json; once more with all six files they ship, a
// real ALBERT spiece.model and its tokenizer.json. It converts with
// nystrom-convert (q8_0 and f32), and fill-mask on it is well-formed and
// agrees with the f32 model's logits from `nystrom run`. --attention auto
// runs exact attention on it, as transformers does, and --landmarks 64 runs
// Nystrom attention.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "cli_support.h"
#include "nystrom/io.h"
#include "support.h"
#include "text/tokenizer.h"
#include "torch_save_writer.h"

namespace {

using test::quote;

// The published config.json's keys, in their order, with their values but
// for the sizes (uw-madison/nystromformer-512: hidden 768, 12 layers and
// heads, intermediate 3072, 510 positions, 30000 pieces; -4096: 4096
// positions and no use_cache or tokenizer_class).
constexpr uint32_t kHidden = 64, kLayers = 2, kHeads = 4, kIntermediate = 128, kPositions = 126;

std::string config_json(uint32_t vocab) {
  return "{\n"
         "  \"architectures\": [\n    \"NystromformerForMaskedLM\"\n  ],\n"
         "  \"attention_probs_dropout_prob\": 0.1,\n"
         "  \"bos_token_id\": 0,\n"
         "  \"conv_kernel_size\": 65,\n"
         "  \"eos_token_id\": 2,\n"
         "  \"hidden_act\": \"gelu_new\",\n"
         "  \"hidden_dropout_prob\": 0.1,\n"
         "  \"hidden_size\": " + std::to_string(kHidden) + ",\n"
         "  \"initializer_range\": 0.02,\n"
         "  \"intermediate_size\": " + std::to_string(kIntermediate) + ",\n"
         "  \"inv_coeff_init_option\": false,\n"
         "  \"layer_norm_eps\": 1e-05,\n"
         "  \"max_position_embeddings\": " + std::to_string(kPositions) + ",\n"
         "  \"model_type\": \"nystromformer\",\n"
         "  \"num_attention_heads\": " + std::to_string(kHeads) + ",\n"
         "  \"num_hidden_layers\": " + std::to_string(kLayers) + ",\n"
         "  \"num_landmarks\": 64,\n"
         "  \"pad_token_id\": 1,\n"
         "  \"segment_means_seq_len\": 64,\n"
         "  \"torch_dtype\": \"float32\",\n"
         "  \"transformers_version\": \"4.13.0.dev0\",\n"
         "  \"type_vocab_size\": 2,\n"
         "  \"use_cache\": true,\n"
         "  \"vocab_size\": " + std::to_string(vocab) + ",\n"
         "  \"tokenizer_class\": \"AlbertTokenizer\"\n"
         "}\n";
}

// As the published repositories ship them (AlbertTokenizer's save_pretrained).
const char kTokenizerConfig[] =
    R"({"do_lower_case": true, "remove_space": true, "keep_accents": false, "bos_token": "[CLS]", )"
    R"("eos_token": "[SEP]", "unk_token": "<unk>", "sep_token": "[SEP]", "pad_token": "<pad>", "cls_token": "[CLS]", )"
    R"("mask_token": {"content": "[MASK]", "single_word": false, "lstrip": true, "rstrip": false, )"
    R"("normalized": false, "__type": "AddedToken"}, "sp_model_kwargs": {}, "special_tokens_map_file": null, )"
    R"("name_or_path": "albert-base-v1", "tokenizer_class": "AlbertTokenizer"})";
const char kSpecialTokensMap[] =
    R"({"bos_token": "[CLS]", "eos_token": "[SEP]", "unk_token": "<unk>", "sep_token": "[SEP]", )"
    R"("pad_token": "<pad>", "cls_token": "[CLS]", "mask_token": {"content": "[MASK]", "single_word": false, )"
    R"("lstrip": true, "rstrip": false, "normalized": false}})";

// One tensor of the state dict: its name, shape and values (or, for a tied
// tensor, the name of the one whose storage it shares).
struct StateTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
  std::string tied_to;
};

// NystromformerForMaskedLM's state dict at these sizes, with seeded random
// weights: word embeddings spread wide enough that the masked-LM head has a
// clear favourite, LayerNorm weights near 1, small biases.
std::vector<StateTensor> masked_lm_state(uint32_t vocab) {
  std::mt19937 rng(20260);
  auto fill = [&](std::vector<int64_t> shape, float mean, float sd) {
    size_t count = 1;
    for (int64_t d : shape) count *= size_t(d);
    std::normal_distribution<float> normal(mean, sd);
    std::vector<float> v(count);
    for (float& x : v) x = normal(rng);
    return v;
  };
  std::vector<StateTensor> s;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float mean, float sd) {
    s.push_back({name, shape, fill(shape, mean, sd), ""});
  };
  auto linear = [&](const std::string& name, int64_t out, int64_t in) {
    add(name + ".weight", {out, in}, 0.0f, 0.15f);
    add(name + ".bias", {out}, 0.0f, 0.02f);
  };
  auto layer_norm = [&](const std::string& name, int64_t size) {
    add(name + ".weight", {size}, 1.0f, 0.05f);
    add(name + ".bias", {size}, 0.0f, 0.02f);
  };
  const std::string e = "nystromformer.embeddings.";
  add(e + "word_embeddings.weight", {vocab, kHidden}, 0.0f, 0.5f);
  add(e + "position_embeddings.weight", {kPositions + 2, kHidden}, 0.0f, 0.1f);
  add(e + "token_type_embeddings.weight", {2, kHidden}, 0.0f, 0.1f);
  layer_norm(e + "LayerNorm", kHidden);
  for (uint32_t l = 0; l < kLayers; ++l) {
    const std::string p = "nystromformer.encoder.layer." + std::to_string(l) + ".";
    for (const char* proj : {"query", "key", "value"}) linear(p + "attention.self." + proj, kHidden, kHidden);
    add(p + "attention.self.conv.weight", {kHeads, 1, 65, 1}, 0.0f, 0.05f);
    linear(p + "attention.output.dense", kHidden, kHidden);
    layer_norm(p + "attention.output.LayerNorm", kHidden);
    linear(p + "intermediate.dense", kIntermediate, kHidden);
    linear(p + "output.dense", kHidden, kIntermediate);
    layer_norm(p + "output.LayerNorm", kHidden);
  }
  add("cls.predictions.bias", {vocab}, 0.0f, 0.02f);
  linear("cls.predictions.transform.dense", kHidden, kHidden);
  layer_norm("cls.predictions.transform.LayerNorm", kHidden);
  s.push_back({"cls.predictions.decoder.weight", {vocab, kHidden}, {}, e + "word_embeddings.weight"});
  s.push_back({"cls.predictions.decoder.bias", {vocab}, {}, "cls.predictions.bias"});
  return s;
}

// pytorch_model.bin as torch.save writes it: one storage per tensor, tied
// tensors over the same storage, and the position_ids buffer (int64
// [1, positions], values 2, 3, ...) that transformers of that time saved.
std::string pytorch_model_bin(const std::vector<StateTensor>& state) {
  using namespace torchsave;
  std::vector<View> views;
  std::map<std::string, std::string> storages, key_of;
  for (const StateTensor& t : state) {
    View v;
    v.name = t.name;
    v.size = t.shape;
    v.stride.assign(t.shape.size(), 1);
    for (size_t i = t.shape.size(); i-- > 1;) v.stride[i - 1] = v.stride[i] * t.shape[i];
    v.numel = uint64_t(v.stride[0] * t.shape[0]);
    if (t.tied_to.empty()) {
      v.key = std::to_string(storages.size());
      storages[v.key] = floats(t.values);
      key_of[t.name] = v.key;
    } else {
      v.key = key_of.at(t.tied_to);
    }
    views.push_back(v);
  }
  View ids{"nystromformer.embeddings.position_ids", std::to_string(storages.size()), kPositions, 0,
           {1, kPositions}, {kPositions, 1}, "LongStorage"};
  std::string longs;
  for (int64_t i = 0; i < kPositions; ++i) longs += u64(uint64_t(i + 2));
  storages[ids.key] = longs;
  views.insert(views.begin(), ids);
  ZipStyle style;
  style.descriptor = true;
  return torch_zip(state_dict(views), storages, "pytorch_model", style);
}

// An ALBERT-style spiece.model, trained as ALBERT's was (unigram; <pad> 0,
// <unk> 1, [CLS] [SEP] [MASK] as control symbols 2-4; its user-defined
// punctuation) on the SentencePiece test corpus. Returns the pieces by id.
std::vector<std::string> train_spiece(const std::string& folder) {
  const bool found = test::run("command -v spm_train").exit_code == 0;
  REQUIRE_MESSAGE(found, "spm_train is missing: run tests/ensure_deps.sh (Debian's sentencepiece package)");
  const std::string prefix = folder + "/spiece";
  const test::RunResult trained = test::run(
      "spm_train --input=tests/data/spm/corpus.txt --model_prefix=" + quote(prefix) +
      " --model_type=unigram --vocab_size=1000 --hard_vocab_limit=false --random_seed=7 --num_threads=1"
      " --minloglevel=2 --pad_id=0 --unk_id=1 --bos_id=-1 --eos_id=-1 '--control_symbols=[CLS],[SEP],[MASK]'"
      " '--user_defined_symbols=(,),\",-,.,–,£,€'");
  REQUIRE_MESSAGE(trained.exit_code == 0, "spm_train failed: ", trained.err);
  std::vector<std::string> pieces;
  for (const std::string& row : test::lines_of(test::slurp(prefix + ".vocab")))
    pieces.push_back(row.substr(0, row.find('\t')));
  std::remove((prefix + ".vocab").c_str());  // not a file the repositories ship
  return pieces;
}

// The pieces of a spiece.model by id, as the engine reads them.
std::vector<std::string> pieces_of(const std::string& spiece_model) {
  auto tok = nystrom::text::load_tokenizer({{"spiece.model", spiece_model}});
  REQUIRE(tok);
  std::vector<std::string> pieces;
  for (int32_t id = 0; id < tok->vocab_size(); ++id) pieces.push_back(tok->id_to_token(id));
  return pieces;
}

// The published layout in dir/nystromformer-small, converted to q8_0 and
// f32. Its tokenizer: a spiece.model trained here and nothing more, or (with
// tokenizer_json) a real ALBERT spiece.model and the tokenizer.json that
// transformers converted from it (tests/data/tokenizers/albert_precompiled),
// which makes the six files the repositories hold.
struct PublishedLayout {
  test::TempDir dir;
  std::string folder = dir / "nystromformer-small";
  std::vector<std::string> pieces;
  std::string q8, f32;
  std::string summary;  // what converting to q8_0 printed

  explicit PublishedLayout(bool tokenizer_json) {
    REQUIRE(::mkdir(folder.c_str(), 0777) == 0);
    if (tokenizer_json) {
      const std::string src = "tests/data/tokenizers/albert_precompiled/";
      test::write_file(folder + "/spiece.model", test::slurp(src + "spiece.model"));
      test::write_file(folder + "/tokenizer.json", test::slurp(src + "tokenizer.json"));
      pieces = pieces_of(test::slurp(src + "spiece.model"));
    } else {
      pieces = train_spiece(folder);
    }
    REQUIRE(pieces.size() > 500);
    REQUIRE(pieces[0] == "<pad>");
    REQUIRE(pieces[4] == "[MASK]");
    const uint32_t vocab = uint32_t(pieces.size());
    test::write_file(folder + "/config.json", config_json(vocab));
    test::write_file(folder + "/pytorch_model.bin", pytorch_model_bin(masked_lm_state(vocab)));
    test::write_file(folder + "/tokenizer_config.json", kTokenizerConfig);
    test::write_file(folder + "/special_tokens_map.json", kSpecialTokensMap);
    q8 = dir / "model-q8_0.nyf";
    f32 = dir / "model-f32.nyf";
    const test::RunResult a = test::run(test::tool("nystrom-convert") + " " + quote(folder) + " -o " + quote(q8) +
                                        " --type q8_0");
    REQUIRE_MESSAGE(a.exit_code == 0, a.err);
    summary = a.out + a.err;
    const test::RunResult b = test::run(test::tool("nystrom-convert") + " " + quote(folder) + " -o " + quote(f32));
    REQUIRE_MESSAGE(b.exit_code == 0, b.err);
  }
};

const PublishedLayout& spiece_only() {
  static const PublishedLayout l(false);
  return l;
}
const PublishedLayout& all_six_files() {
  static const PublishedLayout l(true);
  return l;
}

std::vector<int32_t> parse_ids(const std::string& line) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start < line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string::npos) end = line.size();
    ids.push_back(std::stoi(line.substr(start, end - start)));
    start = end + 1;
  }
  return ids;
}

// `nystrom tokenize` of text: its one line of ids.
std::vector<int32_t> tokenize(const std::string& model, const std::string& text) {
  const test::RunResult r = clitest::nystrom_cli("tokenize -m " + quote(model) + " " + quote(text));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::vector<std::string> lines = test::lines_of(r.out);
  REQUIRE(lines.size() == 1);
  return parse_ids(lines[0]);
}

// `nystrom run` of ids on model (with extra options): the logits, [n, vocab].
std::vector<float> run_logits(const std::string& model, const std::vector<int32_t>& ids, uint32_t vocab,
                              const std::string& options = "") {
  test::TempDir work;
  nystrom::write_npy(work / "ids.npy", "<i4", {ids.size()}, ids.data());
  const test::RunResult r = clitest::nystrom_cli("run -m " + quote(model) + " --ids-npy " + quote(work / "ids.npy") +
                                                 " --out-dir " + quote(work / "out") + " " + options);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::vector<uint64_t> shape;
  std::vector<float> logits = nystrom::read_npy_f32(work / "out/logits.npy", &shape);
  REQUIRE(shape == std::vector<uint64_t>{ids.size(), vocab});
  return logits;
}

struct Candidate {
  std::string token;
  double probability;
};

// `nystrom fill-mask` (plain output, one mask): its k lines, each checked
// for the shape "1 <tab> token <tab> probability".
std::vector<Candidate> fill_mask(const std::string& model, const std::string& text, int k,
                                 const std::string& options = "") {
  const test::RunResult r = clitest::nystrom_cli("fill-mask -m " + quote(model) + " --top-k " + std::to_string(k) +
                                                 " " + options + " " + quote(text));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::vector<Candidate> out;
  for (const std::string& line : test::lines_of(r.out)) {
    INFO("line: " << line);
    const size_t a = line.find('\t'), b = line.rfind('\t');
    REQUIRE(a != std::string::npos);
    REQUIRE(b > a);
    CHECK(line.substr(0, a) == "1");
    char* end = nullptr;
    const double p = std::strtod(line.c_str() + b + 1, &end);
    CHECK(*end == '\0');
    out.push_back({line.substr(a + 1, b - a - 1), p});
  }
  REQUIRE(out.size() == size_t(k));
  return out;
}

// Softmax over one row of logits, in double.
std::vector<double> probabilities(const float* row, size_t n) {
  const double top = *std::max_element(row, row + n);
  std::vector<double> p(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(double(row[i]) - top);
  for (double& x : p) x /= sum;
  return p;
}

std::string fixed4(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", p);
  return buf;
}

const char kSentence[] = "The cat sat on the [MASK] with the dog.";

}  // namespace

TEST_CASE("published layout: config.json, pytorch_model.bin and spiece.model alone convert, with the ALBERT tokenizer") {
  const PublishedLayout& l = spiece_only();
  INFO("summary: " << l.summary);
  CHECK(l.summary.find("Unigram") != std::string::npos);
  CHECK(l.summary.find("spiece.model") != std::string::npos);
  // [CLS] text [SEP], lower-cased as do_lower_case says, [MASK] one token.
  const std::vector<int32_t> ids = tokenize(l.q8, kSentence);
  REQUIRE(ids.size() >= 6);
  CHECK(ids.front() == 2);
  CHECK(ids.back() == 3);
  CHECK(std::count(ids.begin(), ids.end(), 4) == 1);
  CHECK(tokenize(l.q8, "THE CAT SAT ON THE [MASK] WITH THE DOG.") == ids);
}

namespace {

// fill-mask on both conversions of l: k well-formed lines, the f32 one's
// exactly what the f32 model's logits from `nystrom run` give, the q8_0
// one's best token the same.
void check_fill_mask(const PublishedLayout& l) {
  const uint32_t vocab = uint32_t(l.pieces.size());
  const std::vector<int32_t> ids = tokenize(l.f32, kSentence);
  const size_t mask = size_t(std::find(ids.begin(), ids.end(), 4) - ids.begin());
  REQUIRE(mask < ids.size());
  const std::vector<float> logits = run_logits(l.f32, ids, vocab);
  const std::vector<double> p = probabilities(logits.data() + mask * vocab, vocab);
  std::vector<int32_t> order(vocab);
  for (uint32_t i = 0; i < vocab; ++i) order[i] = int32_t(i);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p[a] > p[b]; });
  // The weights are made so that the best token stands clear of the second:
  // an argmax comparison across weight types then means something.
  REQUIRE(p[order[0]] - p[order[1]] > 0.05);

  const int k = 5;
  const std::set<std::string> known(l.pieces.begin(), l.pieces.end());
  for (const std::string& model : {l.f32, l.q8}) {
    CAPTURE(model);
    const std::vector<Candidate> got = fill_mask(model, kSentence, k);
    double sum = 0;
    for (size_t j = 0; j < got.size(); ++j) {
      CAPTURE(j);
      CHECK(known.count(got[j].token) == 1);
      CHECK(got[j].probability > 0.0);
      CHECK(got[j].probability <= 1.0);
      if (j > 0) CHECK(got[j].probability <= got[j - 1].probability);
      sum += got[j].probability;
    }
    CHECK(sum <= 1.0 + k * 0.00005);  // each printed to 4 decimals
    CHECK(got[0].token == l.pieces[size_t(order[0])]);
    if (model == l.f32) {
      // The same model: the same candidates, in the same order, as the logits give.
      for (size_t j = 0; j < got.size(); ++j) {
        CHECK(got[j].token == l.pieces[size_t(order[j])]);
        CHECK(fixed4(got[j].probability) == fixed4(p[size_t(order[j])]));
      }
    }
  }
}

}  // namespace

TEST_CASE("published layout: fill-mask on the q8_0 model is well-formed and agrees with the f32 model's logits") {
  check_fill_mask(spiece_only());
}

TEST_CASE("published layout: with tokenizer.json as well (the six files), the converter embeds both and fill-mask works") {
  const PublishedLayout& l = all_six_files();
  INFO("summary: " << l.summary);
  CHECK(l.summary.find("tokenizer.json") != std::string::npos);
  CHECK(l.summary.find("spiece.model") != std::string::npos);
  // On plain lower-case text the converted tokenizer gives what
  // spiece.model alone gives.
  auto spiece = nystrom::text::load_tokenizer({{"spiece.model", test::slurp(l.folder + "/spiece.model")}});
  REQUIRE(spiece);
  const std::string plain = "the cat sat on the [MASK] with the dog.";
  const std::vector<int32_t> ids = tokenize(l.q8, plain);
  CHECK(ids == spiece->encode(plain, true));
  CHECK(std::count(ids.begin(), ids.end(), 4) == 1);
  check_fill_mask(l);
}

TEST_CASE("published layout: auto runs exact attention (num_landmarks == segment_means_seq_len), --landmarks 64 Nystrom") {
  const PublishedLayout& l = spiece_only();
  const uint32_t vocab = uint32_t(l.pieces.size());
  // Longer than 64 tokens, so that Nystrom attention with 64 landmarks is
  // an approximation rather than exact.
  std::string text = kSentence;
  std::vector<int32_t> ids = tokenize(l.f32, text);
  while (ids.size() <= 64) ids = tokenize(l.f32, text = "The dog ran over the garden. " + text);
  REQUIRE(ids.size() > 64);
  REQUIRE(ids.size() <= kPositions);
  const std::vector<float> automatic = run_logits(l.f32, ids, vocab);
  const std::vector<float> exact = run_logits(l.f32, ids, vocab, "--attention exact");
  const std::vector<float> nystrom = run_logits(l.f32, ids, vocab, "--landmarks 64");
  CHECK(test::same_bits(automatic, exact));
  CHECK_FALSE(test::same_bits(nystrom, exact));
  CHECK(test::same_bits(nystrom, run_logits(l.f32, ids, vocab, "--attention nystrom")));
  // An approximation of the same function, not another one.
  const test::Diff d = test::diff(nystrom, exact);
  CHECK(d.max_abs < 0.25 * d.max_ref);
}
