#include "text/post_processor.h"

#include "runtime/error.h"

namespace nystrom::text {

Template::Template(std::vector<Item> items) : items_(std::move(items)) {
  int sequences = 0;
  for (const Item& item : items_) sequences += item.sequence;
  if (sequences != 1) fail("tokenizer.json: a single-sequence template must hold $A exactly once");
}

Template Template::around(std::vector<int32_t> before, std::vector<int32_t> after) {
  std::vector<Item> items;
  if (!before.empty()) items.push_back({false, std::move(before)});
  items.push_back({true, {}});
  if (!after.empty()) items.push_back({false, std::move(after)});
  return Template(std::move(items));
}

std::vector<int32_t> Template::apply(const std::vector<int32_t>& ids) const {
  if (items_.empty()) return ids;
  std::vector<int32_t> out;
  out.reserve(ids.size() + num_special_tokens());
  for (const Item& item : items_) {
    const std::vector<int32_t>& part = item.sequence ? ids : item.ids;
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

int Template::num_special_tokens() const {
  int n = 0;
  for (const Item& item : items_) n += (int)item.ids.size();
  return n;
}

std::vector<int32_t> Template::special_ids() const {
  std::vector<int32_t> out;
  for (const Item& item : items_) out.insert(out.end(), item.ids.begin(), item.ids.end());
  return out;
}

namespace {

int32_t id_value(const JsonValue& v, const char* what) {
  const int64_t id = v.as_int(what);
  if (id < 0 || id > INT32_MAX) fail(what, " ", id, " out of range");
  return (int32_t)id;
}

// BertProcessing / RobertaProcessing: "cls": ["[CLS]", 101], "sep": [...].
int32_t pair_id(const JsonValue& json, const char* key) {
  const JsonValue* v = json.find(key);
  if (!v || !v->is_array() || v->array.size() != 2)
    fail("tokenizer.json: post_processor \"", key, "\" must be [token, id]");
  return id_value(v->array[1], "tokenizer.json: post_processor id");
}

Template template_processing(const JsonValue& json) {
  const JsonValue* single = json.find("single");
  if (!single || !single->is_array()) fail("tokenizer.json: TemplateProcessing without a \"single\" array");
  const JsonValue* specials = json.find("special_tokens");
  std::vector<Template::Item> items;
  for (const JsonValue& piece : single->array) {
    if (const JsonValue* seq = piece.find("Sequence")) {
      const JsonValue* id = seq->find("id");
      if (!id || id->as_string("tokenizer.json: template sequence id") != "A")
        fail("tokenizer.json: the single template may only name sequence A");
      items.push_back({true, {}});
    } else if (const JsonValue* special = piece.find("SpecialToken")) {
      const JsonValue* name = special->find("id");
      if (!name) fail("tokenizer.json: template SpecialToken without \"id\"");
      const std::string& key = name->as_string("tokenizer.json: template SpecialToken id");
      const JsonValue* entry = specials ? specials->find(key) : nullptr;
      const JsonValue* ids = entry ? entry->find("ids") : nullptr;
      if (!ids || !ids->is_array())
        fail("tokenizer.json: template special token '", key, "' missing from \"special_tokens\"");
      Template::Item item;
      for (const JsonValue& id : ids->array) item.ids.push_back(id_value(id, "tokenizer.json: special token id"));
      items.push_back(std::move(item));
    } else {
      fail("tokenizer.json: template pieces must be Sequence or SpecialToken");
    }
  }
  return Template(std::move(items));
}

}  // namespace

Template template_from_json(const JsonValue& json) {
  if (json.is_null()) return Template();
  const JsonValue* type_field = json.find("type");
  if (!type_field) fail("tokenizer.json: post_processor without \"type\"");
  const std::string& type = type_field->as_string("tokenizer.json: post_processor type");
  if (type == "TemplateProcessing") return template_processing(json);
  if (type == "BertProcessing" || type == "RobertaProcessing")
    return Template::around({pair_id(json, "cls")}, {pair_id(json, "sep")});
  if (type == "ByteLevel") return Template();  // only moves offsets
  if (type == "Sequence") {
    const JsonValue* list = json.find("processors");
    if (!list || !list->is_array()) fail("tokenizer.json: Sequence post_processor without a \"processors\" array");
    std::vector<int32_t> before, after;
    for (const JsonValue& item : list->array) {
      // Each later template wraps what the earlier ones made.
      const Template t = template_from_json(item);
      const std::vector<int32_t> marker = {-1};
      const std::vector<int32_t> wrapped = t.apply(marker);
      size_t at = 0;
      while (wrapped[at] != -1) ++at;
      before.insert(before.begin(), wrapped.begin(), wrapped.begin() + at);
      after.insert(after.end(), wrapped.begin() + at + 1, wrapped.end());
    }
    return Template::around(std::move(before), std::move(after));
  }
  fail("tokenizer.json: post_processor type '", type, "' is not supported");
}

}  // namespace nystrom::text
