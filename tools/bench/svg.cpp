#include "svg.h"

#include <cmath>
#include <cstdio>

namespace nystrom::benchtool {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const unsigned char c = (unsigned char)ch;
    if (ch == '&') out += "&amp;";
    else if (ch == '<') out += "&lt;";
    else if (ch == '>') out += "&gt;";
    else if (ch == '"') out += "&quot;";
    else if (ch == '\'') out += "&apos;";
    else if (c < 0x20 && ch != '\t' && ch != '\n') continue;
    else out += ch;
  }
  return out;
}

std::string svg_number(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  s.erase(s.find_last_not_of('0') + 1);  // "12.50" -> "12.5", "3.00" -> "3."
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

static std::string attributes_text(const SvgAttributes& attributes) {
  std::string s;
  for (const auto& [name, value] : attributes) s += " " + name + "=\"" + xml_escape(value) + "\"";
  return s;
}

Svg::Svg(double width, double height) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  open("svg", {{"xmlns", "http://www.w3.org/2000/svg"},
               {"width", svg_number(width)},
               {"height", svg_number(height)},
               {"viewBox", "0 0 " + svg_number(width) + " " + svg_number(height)}});
}

void Svg::indent() { out_.append(2 * open_.size(), ' '); }

void Svg::element(const std::string& name, const SvgAttributes& attributes, const std::string& text) {
  indent();
  out_ += "<" + name + attributes_text(attributes);
  out_ += text.empty() ? "/>\n" : ">" + xml_escape(text) + "</" + name + ">\n";
}

void Svg::open(const std::string& name, const SvgAttributes& attributes) {
  indent();
  out_ += "<" + name + attributes_text(attributes) + ">\n";
  open_.push_back(name);
}

void Svg::close() {
  if (open_.empty()) return;
  const std::string name = open_.back();
  open_.pop_back();
  indent();
  out_ += "</" + name + ">\n";
}

std::string Svg::finish() {
  while (!open_.empty()) close();
  return out_;
}

}  // namespace nystrom::benchtool
