// The one small, valid model configuration that tests and fuzz seeds build
// by hand: 1 layer of width `hidden` (intermediate size too), 2 heads, 8 ids,
// 4 positions, 2 landmarks over segments of 2 (so exact attention), a conv
// skip of 3 and, for a classifier, three labels. A test that needs other
// values changes the fields it is about.
#pragma once
#include <cstdint>

#include "nystrom/nystrom.h"

namespace test {

inline nystrom::ModelConfig small_config(uint32_t hidden = 4, nystrom::HeadType head = nystrom::HeadType::None) {
  nystrom::ModelConfig c;
  c.vocab_size = 8;
  c.hidden_size = hidden;
  c.num_layers = 1;
  c.num_heads = 2;
  c.intermediate_size = hidden;
  c.max_positions = 4;
  c.type_vocab_size = 1;
  c.num_landmarks = 2;
  c.segment_means_len = 2;
  c.conv_kernel = 3;
  c.position_offset = 2;
  c.head = head;
  if (head == nystrom::HeadType::Classifier) c.labels = {"negative", "neutral", "positive"};
  return c;
}

}  // namespace test
