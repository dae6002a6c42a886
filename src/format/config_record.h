// The model configuration as the .nyf header stores it (format::ConfigRecord)
// and back. The sizes and the LayerNorm epsilon carry the same names in
// ModelConfig, format::ConfigRecord and the C API's nystrom_config, so one
// template copies them between any two; the rest (codes, labels) is here
// once too.
#pragma once
#include "nystrom/format.h"
#include "nystrom/nystrom.h"

namespace nystrom {

template <typename From, typename To>
void copy_config_sizes(const From& from, To& to) {
  to.vocab_size = from.vocab_size;
  to.hidden_size = from.hidden_size;
  to.num_layers = from.num_layers;
  to.num_heads = from.num_heads;
  to.intermediate_size = from.intermediate_size;
  to.max_positions = from.max_positions;
  to.type_vocab_size = from.type_vocab_size;
  to.num_landmarks = from.num_landmarks;
  to.segment_means_len = from.segment_means_len;
  to.conv_kernel = from.conv_kernel;
  to.layer_norm_eps = from.layer_norm_eps;
}

// The public Activation and HeadType have the file's codes as values
// (checked in config_record.cpp).
format::ConfigRecord config_record(const ModelConfig& c);

// Everything but the labels, which the file keeps in their own section.
// The record's activation, head and problem type codes must be known (<= 2).
ModelConfig config_from_record(const format::ConfigRecord& r);

}  // namespace nystrom
