// Runs a batch of two sequences of different lengths with the C++ API and
// prints a mean-pooled embedding of each, plus the label a classifier picks.
//   c++ example.cpp $(pkg-config --cflags --libs nystrom-cxx) -o example
//   ./example model.nyf
#include <algorithm>
#include <cstdio>
#include <vector>

#include <nystrom/nystrom.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: example MODEL.nyf\n");
    return 2;
  }
  try {
    auto model = nystrom::Model::open(argv[1]);  // shared and immutable
    const nystrom::ModelConfig& config = model->config();
    nystrom::Session session(model);             // default RunOptions: auto attention, all CPUs

    // Two sequences of their own lengths: no padding, each computed alone.
    std::vector<std::vector<int32_t>> batch = {{0, 31, 414, 232, 2}, {0, 7, 8, 9, 10, 11, 12, 13, 14, 2}};
    for (auto& ids : batch)
      for (int32_t& id : ids) id %= (int32_t)config.vocab_size;
    std::vector<nystrom::Output> outs = session.run_batch(batch);

    for (size_t i = 0; i < outs.size(); ++i) {
      const nystrom::Output& out = outs[i];
      std::vector<float> embedding = nystrom::pool_embedding(out, nystrom::Pooling::Mean);
      std::printf("sequence %zu: n=%zu hidden=%zu mean:", i, out.n, out.hidden);
      for (size_t j = 0; j < 4 && j < embedding.size(); ++j) std::printf(" %.6f", embedding[j]);
      if (config.head == nystrom::HeadType::Classifier && !out.logits.empty()) {
        size_t best = std::max_element(out.logits.begin(), out.logits.end()) - out.logits.begin();
        std::printf(" label=%s", config.labels[best].c_str());
      }
      std::printf("\n");
    }
  } catch (const nystrom::Error& e) {  // every library failure: one line and a code
    std::fprintf(stderr, "example: %s (code %d)\n", e.what(), static_cast<int>(e.code()));
    return 1;
  }
  return 0;
}
