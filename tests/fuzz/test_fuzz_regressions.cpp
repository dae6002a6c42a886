// The fuzz targets' inputs, replayed in the normal suite: every committed
// seed (tests/fuzz/corpus/<target>/) and every saved reproducer of a finding
// (tests/fuzz/regressions/<target>/, named after what it broke: a crash or a
// broken invariant) goes through the same target body as under libFuzzer
// (tests/fuzz/targets.h), so a fixed bug stays fixed in `make test` and,
// sanitized, in `make test-asan`. A target body returns normally or stops
// the process; readers may refuse an input only with nystrom::Error.
#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "format/tensor_names.h"
#include "fuzz/targets.h"
#include "fuzz/tiny_tokenizer.h"
#include "small_config.h"
#include "support.h"

namespace {

struct Target {
  const char* name;
  std::function<void(const uint8_t*, size_t)> body;
};

const std::vector<Target>& targets() {
  static const std::vector<Target> t = {
      {"json", fuzz::json},
      {"hf_config", fuzz::hf_config},
      {"safetensors", fuzz::safetensors},
      {"npy", fuzz::npy},
      {"model_file", fuzz::model_file},
      {"zip", fuzz::zip},
      {"pickle", fuzz::pickle},
      {"torch_bin", fuzz::torch_bin},
      {"tokenizer_json", fuzz::tokenizer_json},
      {"spiece_model", fuzz::spiece_model},
      {"vocab_files", fuzz::vocab_files},
  };
  return t;
}

// Regular files in a folder, sorted; none if it does not exist.
std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (const dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(path);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

void replay(const Target& t, const std::string& path) {
  std::string bytes = test::slurp(path);
  t.body(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

void replay(const char* target, const std::string& bytes) {
  for (const Target& t : targets())
    if (std::string(t.name) == target) return t.body(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  FAIL("no fuzz target named " << target);
}

// Every tensor the configuration needs (not the optional ones), all zero.
std::vector<nystrom::TensorData> zero_weights(const nystrom::ModelConfig& c) {
  std::vector<nystrom::TensorData> all;
  for (const nystrom::ExpectedTensor& e : nystrom::expected_tensors(c)) {
    if (e.optional) continue;
    uint64_t n = 1;
    for (uint64_t d : e.shape) n *= d;
    all.push_back({e.name, nystrom::format::DType::F32, e.shape, std::vector<uint8_t>(n * 4, 0)});
  }
  return all;
}

}  // namespace

TEST_CASE("fuzz regressions: every committed seed and saved reproducer runs through its target cleanly") {
  size_t replayed = 0;
  for (const Target& t : targets()) {
    for (const char* kind : {"corpus", "regressions"}) {
      for (const std::string& path : files_in(std::string("tests/fuzz/") + kind + "/" + t.name)) {
        CAPTURE(path);
        CHECK_NOTHROW(replay(t, path));
        ++replayed;
      }
    }
  }
  // The seeds are there (the suite runs from the repository root).
  CHECK(replayed >= 25);
}

// make_seeds gives the tokenizer targets the reference cases' files as seeds;
// here they go through the same bodies (vocabulary file sets as files, not
// in fuzz_vocab_files' one-input layout).
TEST_CASE("fuzz regressions: every reference tokenizer's files run through the tokenizer targets cleanly") {
  const std::string root = "tests/data/tokenizers/";
  std::vector<std::string> cases;
  DIR* d = ::opendir(root.c_str());
  REQUIRE(d != nullptr);
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') cases.push_back(root + e->d_name);
  ::closedir(d);
  size_t replayed = 0;
  for (const std::string& c : cases) {
    CAPTURE(c);
    std::vector<nystrom::text::TokenizerFile> vocab;
    for (const std::string& path : files_in(c)) {
      const std::string name = path.substr(c.size() + 1);
      if (name == "tokenizer.json" || name == "spiece.model") {
        CHECK_NOTHROW(replay(name == "spiece.model" ? "spiece_model" : "tokenizer_json", test::slurp(path)));
        ++replayed;
      } else if (name == "vocab.txt" || name == "vocab.json" || name == "merges.txt" || name == "tokenizer_config.json") {
        vocab.push_back({name, test::slurp(path)});
      }
    }
    if (!vocab.empty()) {
      CHECK_NOTHROW(fuzz::load_and_exercise(vocab));
      ++replayed;
    }
  }
  CHECK(replayed >= 12);
}

TEST_CASE("fuzz regressions: the model_file target's version 3 seed has a tokenizer that encodes its text") {
  // The tiny classifier make_seeds writes with fuzz::kTinyTokenizerJson.
  const nystrom::ModelConfig c = test::small_config();
  std::vector<nystrom::TensorData> all = zero_weights(c);
  test::TempDir dir;
  const std::string path = dir / "tok.nyf";
  nystrom::write_model_file(path, c, all, {{"tokenizer.json", fuzz::kTinyTokenizerJson}});
  auto model = nystrom::Model::open(path);
  const nystrom::Tokenizer* tok = model->tokenizer();
  REQUIRE(tok != nullptr);
  // [CLS] hello , world ! [MASK] < mask > hello [SEP]: "!" "<" "mask" ">" are unknown.
  CHECK(tok->encode("Hello, world! [MASK] <mask> hello") == std::vector<int32_t>{2, 5, 7, 6, 1, 4, 1, 1, 1, 5, 3});
  CHECK_NOTHROW(replay("model_file", test::slurp(path)));
}

TEST_CASE("fuzz regressions: the targets accept empty and one-byte inputs") {
  for (const Target& t : targets()) {
    CAPTURE(t.name);
    CHECK_NOTHROW(replay(t.name, std::string()));
    CHECK_NOTHROW(replay(t.name, std::string(1, '\0')));
    CHECK_NOTHROW(replay(t.name, std::string(1, '{')));
  }
}

// ------------------------------------------------------------------------
// Error messages that spanned lines: the fuzz targets check that every
// message is one line (the library's contract, and what the tools print).
// A name decoded from a JSON escape or read from a binary file can hold
// '\n' or '\r'; each reader must not quote it as it is.

namespace {

bool one_line(const std::string& m) { return m.find('\n') == std::string::npos && m.find('\r') == std::string::npos; }

std::string le(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i) s += static_cast<char>(v >> (8 * i));
  return s;
}

}  // namespace

TEST_CASE("fuzz regressions: safetensors quotes a tensor name or dtype holding a newline on one line") {
  test::TempDir dir;
  const std::string header = "{\"a\\nb\":{\"dtype\":\"F\\r32\",\"shape\":[],\"data_offsets\":[0,0]}}";
  const std::string path = dir / "nl.safetensors";
  std::ofstream(path, std::ios::binary) << le(header.size(), 8) + header;
  const std::string m = test::error_of([&] { nystrom::SafetensorsFile f(path); });
  CHECK(m.find("unsupported dtype") != std::string::npos);
  CHECK(m.find("tensor 'a?b'") != std::string::npos);
  CHECK(m.find("'F?32'") != std::string::npos);
  CHECK(one_line(m));
}

TEST_CASE("fuzz regressions: npy quotes a header key or dtype holding a carriage return on one line") {
  test::TempDir dir;
  auto npy = [](const std::string& dict) {
    std::string h = dict + "\n";
    return std::string("\x93NUMPY\x01\x00", 8) + le(h.size(), 2) + h;
  };
  const std::string key = dir / "key.npy", dtype = dir / "dtype.npy";
  std::ofstream(key, std::ios::binary) << npy("{'de\rscr': '<f4', 'fortran_order': False, 'shape': ()}");
  std::ofstream(dtype, std::ios::binary) << npy("{'descr': '<f\r4', 'fortran_order': False, 'shape': ()}");
  const std::string m1 = test::error_of([&] { nystrom::read_npy(key); });
  const std::string m2 = test::error_of([&] { nystrom::read_npy(dtype); });
  CHECK(m1.find("unexpected key 'de?scr'") != std::string::npos);
  CHECK(m2.find("unsupported dtype '<f?4'") != std::string::npos);
  CHECK(one_line(m1));
  CHECK(one_line(m2));
}

// Found by fuzzing, fixed in fail() (runtime/error.h): every message is one
// line whatever it quotes.

TEST_CASE("fuzz regressions: parse_hf_config quotes model_type, architectures and hidden_act on one line") {
  for (std::string doc : {"{\"model_type\": \"a\\nb\"}", "{\"architectures\": [\"a\\nb\"]}",
                          "{\"hidden_act\": \"a\\r\\nb\"}"}) {
    CAPTURE(doc);
    const std::string m = test::error_of([&] { nystrom::parse_hf_config(nystrom::parse_json(doc, "config.json"), "config.json"); });
    CHECK(m.rfind("config.json: ", 0) == 0);
    CHECK(one_line(m));
  }
}

TEST_CASE("fuzz regressions: ModelFile and Model::open quote a tensor name holding a newline on one line") {
  test::TempDir dir;
  const nystrom::ModelConfig c = test::small_config();
  nystrom::TensorData t{"x\ny", nystrom::format::DType::F32, {1}, std::vector<uint8_t>(4, 0)};
  // Twice: ModelFile refuses the duplicate, naming it (format/model_file.cpp).
  const std::string twice = dir / "twice.nyf";
  nystrom::write_model_file(twice, c, {t, t});
  const std::string m1 = test::error_of([&] { nystrom::ModelFile f(twice); });
  CHECK(m1.find("appears twice") != std::string::npos);
  CHECK(one_line(m1));
  // Once, beside every tensor the configuration needs: the file is valid,
  // Model::open refuses the extra tensor (model/weights.cpp).
  std::vector<nystrom::TensorData> all = zero_weights(c);
  all.push_back(t);
  const std::string once = dir / "once.nyf";
  nystrom::write_model_file(once, c, all);
  const std::string m2 = test::error_of([&] { nystrom::Model::open(once); });
  CHECK(m2.find("unexpected tensor") != std::string::npos);
  CHECK(one_line(m2));
}

TEST_CASE("fuzz regressions: the zip reader quotes an entry name holding a newline on one line") {
  // One central directory entry named "a\nb" whose local header offset (0)
  // leaves no room before the central directory (also at 0), then the end record.
  const std::string name = "a\nb";
  std::string central = le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(0, 4) +
                        le(0, 4) + le(0, 4) + le(name.size(), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2) +
                        le(0, 4) + le(0, 4) + name;
  std::string zip = central + le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) +
                    le(central.size(), 4) + le(0, 4) + le(0, 2);
  const std::string m1 = test::error_of([&] { nystrom::ZipArchive z(std::vector<uint8_t>(zip.begin(), zip.end()), "x.zip"); });
  CHECK(m1.find("out of range") != std::string::npos);
  CHECK(one_line(m1));
  // The same archive as pytorch_model.bin.
  test::TempDir dir;
  std::ofstream(dir / "pytorch_model.bin", std::ios::binary) << zip;
  const std::string m2 = test::error_of([&] { nystrom::TorchBinFile f(dir / "pytorch_model.bin"); });
  CHECK(m2.find("out of range") != std::string::npos);
  CHECK(one_line(m2));
}

// ------------------------------------------------------------------------
// Tokenizer files that made encoding or decoding take minutes or gigabytes
// (the inputs are in tests/fuzz/regressions/tokenizer_json/ and
// spiece_model/): fixed in src/text/simple_regex.cpp (matching without
// backtracking), src/text/wordpiece.cpp (one trie walk per subword) and
// src/text/growth_limit.h (a normalizer or decoder may not make a text more
// than 64 times longer).

namespace {

std::unique_ptr<nystrom::text::Tokenizer> tokenizer_of(const std::string& json) {
  return nystrom::text::load_tokenizer({{"tokenizer.json", json}});
}

// A WordLevel tokenizer.json with these vocabulary entries and parts.
std::string word_level_json(const std::string& vocab, const std::string& parts) {
  return R"({"model": {"type": "WordLevel", "unk_token": "<unk>", "vocab": {"<unk>": 0)" +
         (vocab.empty() ? "" : ", " + vocab) + "}}" +
         (parts.empty() ? "" : ", " + parts) + "}";
}

template <typename F>
double seconds_of(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("fuzz regressions: regex normalizers and splits match a 100000-character word in linear time") {
  const std::string word(100000, 'a');
  // Four starred atoms: backtracking tried every way to share the run.
  auto replace = tokenizer_of(word_level_json(R"("x": 1)",
      R"("normalizer": {"type": "Replace", "pattern": {"Regex": "a*a*a*a*c"}, "content": "x"})"));
  std::vector<int32_t> ids;
  CHECK(seconds_of([&] { ids = replace->encode(word + "c", false); }) < 2.0);
  CHECK(ids == std::vector<int32_t>{1});
  CHECK(seconds_of([&] { ids = replace->encode(word, false); }) < 2.0);
  CHECK(ids == std::vector<int32_t>{0});
  // A run with no "c" after it: backtracking rescanned it from every start.
  auto split = tokenizer_of(word_level_json(R"("aac": 1, "ac": 2, " ": 3)",
      R"("pre_tokenizer": {"type": "Split", "pattern": {"Regex": "a+c"}, "behavior": "Isolated"})"));
  CHECK(seconds_of([&] { ids = split->encode(word, false); }) < 2.0);
  CHECK(ids == std::vector<int32_t>{0});
  CHECK(split->encode("aac ac", false) == std::vector<int32_t>{1, 3, 2});
}

TEST_CASE("fuzz regressions: WordPiece with a long token and no word limit cuts a long word in linear time") {
  auto tok = tokenizer_of(R"({"model": {"type": "WordPiece", "unk_token": "[UNK]", "max_input_chars_per_word": 1000000,
      "vocab": {"[UNK]": 0, "a": 1, "##aa": 2, ")" + std::string(3000, 'b') + R"(": 3}}})");
  std::vector<int32_t> ids;
  CHECK(seconds_of([&] { ids = tok->encode(std::string(100001, 'a'), false); }) < 2.0);
  REQUIRE(ids.size() == 50001);
  CHECK(ids[0] == 1);
  CHECK(std::count(ids.begin(), ids.end(), 2) == 50000);
  CHECK(tok->encode(std::string(3000, 'b'), false) == std::vector<int32_t>{3});
  CHECK(tok->encode("aaab", false) == std::vector<int32_t>{0});
}

TEST_CASE("fuzz regressions: normalizers and decoders that multiply a text throw instead of taking gigabytes") {
  // Replace a -> 40 a's, six times over (nested sequences count as one chain).
  std::string steps;
  for (int k = 0; k < 6; ++k)
    steps += std::string(k ? ", " : "") +
             R"({"type": "Sequence", "normalizers": [{"type": "Replace", "pattern": {"String": "a"}, "content": ")" +
             std::string(40, 'a') + R"("}]})";
  auto normalizers = tokenizer_of(word_level_json(R"("a": 1)", R"("normalizer": {"type": "Sequence", "normalizers": [)" + steps + "]}"));
  const std::string m1 = test::error_of([&] { normalizers->encode("a a", false); });
  CHECK(m1.find("the normalizer Sequence makes a text of length 3 one of length") != std::string::npos);
  CHECK(one_line(m1));
  // The same with decoders, on the way back.
  std::string decoders;
  for (int k = 0; k < 6; ++k)
    decoders += std::string(k ? ", " : "") + R"({"type": "Replace", "pattern": {"String": "<"}, "content": ")" +
                std::string(40, '<') + R"("})";
  auto dec = tokenizer_of(word_level_json("", R"("decoder": {"type": "Sequence", "decoders": [)" + decoders + "]}"));
  const std::string m2 = test::error_of([&] { dec->decode({0}, false); });
  CHECK(m2.find("the decoder Sequence makes a text of length 5") != std::string::npos);
  // A charsmap rule that writes 12000 bytes for "a".
  const std::string m3 = test::error_of([&] {
    nystrom::text::load_tokenizer({{"spiece.model", test::slurp("tests/fuzz/regressions/spiece_model/charsmap-rule-multiplies-text.model")}})
        ->encode("a", false);
  });
  CHECK(m3.find("the spiece.model normalizer makes a text of length 1") != std::string::npos);
  // Growing a text within the limit is fine.
  auto twice = tokenizer_of(word_level_json(R"("aa": 1)",
      R"("normalizer": {"type": "Replace", "pattern": {"String": "a"}, "content": "aa"})"));
  CHECK(twice->encode("a", false) == std::vector<int32_t>{1});
  CHECK(twice->encode(std::string(1000, 'a'), false) == std::vector<int32_t>{0});
}
