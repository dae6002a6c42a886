// The template that puts special tokens around the text's ids
// (`[CLS] $A [SEP]`), from tokenizer.json's TemplateProcessing,
// BertProcessing or RobertaProcessing post-processor.
#pragma once
#include <cstdint>
#include <vector>

#include "runtime/json.h"

namespace nystrom::text {

class Template {
 public:
  // An item is either the text's ids ($A) or fixed special-token ids.
  struct Item {
    bool sequence = false;
    std::vector<int32_t> ids;
  };

  Template() = default;  // just the text
  explicit Template(std::vector<Item> items);
  // cls ids, the text, sep ids.
  static Template around(std::vector<int32_t> before, std::vector<int32_t> after);

  std::vector<int32_t> apply(const std::vector<int32_t>& ids) const;
  int num_special_tokens() const;
  // Every special id the template adds.
  std::vector<int32_t> special_ids() const;

 private:
  std::vector<Item> items_;
};

// From tokenizer.json's "post_processor"; the plain template for null or
// ByteLevel. A Sequence applies its templates one inside the other.
Template template_from_json(const JsonValue& json);

}  // namespace nystrom::text
