// A small SVG writer: elements with attributes and text, escaped for XML,
// nested in groups, collected into one standalone document. Enough for the
// bench's charts, without a dependency.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace nystrom::benchtool {

using SvgAttributes = std::vector<std::pair<std::string, std::string>>;

// s with &, <, >, " and ' as XML entities, and control characters other
// than tab and newline (which XML 1.0 cannot hold) left out.
std::string xml_escape(const std::string& s);

// A coordinate or length: at most 2 decimals, no exponent.
std::string svg_number(double v);

class Svg {
 public:
  Svg(double width, double height);

  // <name attributes/>, or <name attributes>text</name> when text is given.
  void element(const std::string& name, const SvgAttributes& attributes, const std::string& text = "");
  // <name attributes> ... </name> around what follows, until close().
  void open(const std::string& name, const SvgAttributes& attributes);
  void close();

  // The document: the XML declaration, <svg> and everything written, with
  // every open element closed.
  std::string finish();

 private:
  void indent();
  std::string out_;
  std::vector<std::string> open_;
};

}  // namespace nystrom::benchtool
