#include "format/config_record.h"

namespace nystrom {

static_assert(uint32_t(Activation::GeluTanh) == uint32_t(format::ActivationCode::GeluTanh) &&
                  uint32_t(Activation::GeluErf) == uint32_t(format::ActivationCode::GeluErf) &&
                  uint32_t(Activation::Relu) == uint32_t(format::ActivationCode::Relu),
              "Activation lists the file's activation codes in order");
static_assert(uint32_t(HeadType::None) == uint32_t(format::HeadCode::None) &&
                  uint32_t(HeadType::MaskedLM) == uint32_t(format::HeadCode::MaskedLM) &&
                  uint32_t(HeadType::Classifier) == uint32_t(format::HeadCode::Classifier),
              "HeadType lists the file's head codes in order");
static_assert(uint32_t(ProblemType::SingleLabel) == uint32_t(format::ProblemTypeCode::SingleLabel) &&
                  uint32_t(ProblemType::MultiLabel) == uint32_t(format::ProblemTypeCode::MultiLabel) &&
                  uint32_t(ProblemType::Regression) == uint32_t(format::ProblemTypeCode::Regression),
              "ProblemType lists the file's problem type codes in order");

format::ConfigRecord config_record(const ModelConfig& c) {
  format::ConfigRecord r{};
  copy_config_sizes(c, r);
  r.activation = static_cast<uint32_t>(c.activation);
  r.head = static_cast<uint32_t>(c.head);
  r.num_labels = static_cast<uint32_t>(c.labels.size());
  r.position_offset = c.position_offset;
  r.problem_type = static_cast<uint32_t>(c.problem_type);
  return r;
}

ModelConfig config_from_record(const format::ConfigRecord& r) {
  ModelConfig c;
  copy_config_sizes(r, c);
  c.activation = static_cast<Activation>(r.activation);
  c.head = static_cast<HeadType>(r.head);
  c.position_offset = r.position_offset;
  c.problem_type = static_cast<ProblemType>(r.problem_type);
  return c;
}

}  // namespace nystrom
