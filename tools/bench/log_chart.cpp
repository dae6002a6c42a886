#include "log_chart.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "svg.h"

namespace nystrom::benchtool {

namespace {

const double kPanelWidth = 460, kPanelHeight = 330;  // plot area and margins of one panel
const double kLeft = 78, kRight = 16, kTop = 34, kBottom = 52;
const double kTitleHeight = 64;  // the title and legend above the panels
const double kCaptionLine = 17;

// A value as a tick label: 65536 -> "64k", 2000 -> "2000", 0.5 -> "0.5".
std::string tick_label(double v) {
  char buf[32];
  if (v >= 1024 && std::fmod(v, 1024) == 0)
    std::snprintf(buf, sizeof buf, "%gk", v / 1024);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Where one axis's ticks go: powers of 2 (the x axis: sequence lengths) or
// 1-2-5 steps of each decade (the y axis), over [lo, hi] widened to ticks.
struct Axis {
  double lo = 1, hi = 10;
  std::vector<double> ticks;
  double pos(double v, double from, double to) const {
    return from + (to - from) * (std::log(v) - std::log(lo)) / (std::log(hi) - std::log(lo));
  }
};

Axis powers_of_two(double lo, double hi) {
  Axis a;
  a.lo = std::exp2(std::floor(std::log2(lo)));
  a.hi = std::exp2(std::ceil(std::log2(hi)));
  if (a.hi <= a.lo) a.hi = a.lo * 2;
  for (double v = a.lo; v <= a.hi * 1.0001; v *= 2) a.ticks.push_back(v);
  return a;
}

Axis decades(double lo, double hi) {
  Axis a;
  int k0 = (int)std::floor(std::log10(lo)), k1 = (int)std::ceil(std::log10(hi));
  if (k1 <= k0) k1 = k0 + 1;
  const bool fine = k1 - k0 <= 3;  // few decades: 1, 2, 5 in each
  for (int k = k0; k <= k1; ++k)
    for (double step : {1.0, 2.0, 5.0}) {
      const double v = step * std::pow(10.0, k);
      if ((step == 1.0 || fine) && v <= std::pow(10.0, k1) * 1.0001) a.ticks.push_back(v);
    }
  // Trim to the ticks around the data, keeping one on each side.
  while (a.ticks.size() > 2 && a.ticks[1] <= lo) a.ticks.erase(a.ticks.begin());
  while (a.ticks.size() > 2 && a.ticks[a.ticks.size() - 2] >= hi) a.ticks.pop_back();
  a.lo = a.ticks.front(), a.hi = a.ticks.back();
  return a;
}

std::string dash(bool dashed) { return dashed ? "7 4" : "none"; }

// A caption line cut at spaces into lines of at most `width` characters
// (a word longer than that stays whole): text in SVG does not wrap.
std::vector<std::string> wrapped(const std::string& line, size_t width) {
  std::vector<std::string> lines(1);
  size_t start = 0;
  while (start < line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string::npos) end = line.size();
    const std::string word = line.substr(start, end - start);
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width) lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : " ") + word;
    start = end + 1;
  }
  return lines;
}

void draw_panel(Svg& svg, const ChartPanel& p, double x0, double y0) {
  double xlo = INFINITY, xhi = 0, ylo = INFINITY, yhi = 0;
  for (const ChartSeries& s : p.series)
    for (const ChartPoint& pt : s.points) {
      if (!(pt.x > 0 && pt.y > 0)) continue;
      xlo = std::min(xlo, pt.x), xhi = std::max(xhi, pt.x);
      ylo = std::min(ylo, pt.y), yhi = std::max(yhi, pt.y);
    }
  if (xhi == 0) xlo = 256, xhi = 65536, ylo = 1, yhi = 1000;
  if (p.x_min > 0) xlo = std::min(xlo, p.x_min);
  xhi = std::max(xhi, p.x_max);
  const Axis ax = powers_of_two(xlo, xhi), ay = decades(ylo, yhi);
  const double left = x0 + kLeft, right = x0 + kPanelWidth - kRight;
  const double top = y0 + kTop, bottom = y0 + kPanelHeight - kBottom;
  auto X = [&](double v) { return ax.pos(v, left, right); };
  auto Y = [&](double v) { return ay.pos(v, bottom, top); };

  svg.open("g", {{"class", "panel"}, {"data-title", p.title}});
  svg.element("text", {{"x", svg_number((left + right) / 2)}, {"y", svg_number(y0 + 20)}, {"text-anchor", "middle"},
                       {"font-size", "15"}, {"font-weight", "bold"}},
              p.title);
  for (double t : ax.ticks) {
    svg.element("line", {{"x1", svg_number(X(t))}, {"y1", svg_number(top)}, {"x2", svg_number(X(t))},
                         {"y2", svg_number(bottom)}, {"stroke", "#e4e4e4"}});
    svg.element("text", {{"x", svg_number(X(t))}, {"y", svg_number(bottom + 17)}, {"text-anchor", "middle"},
                         {"font-size", "12"}},
                tick_label(t));
  }
  for (double t : ay.ticks) {
    svg.element("line", {{"x1", svg_number(left)}, {"y1", svg_number(Y(t))}, {"x2", svg_number(right)},
                         {"y2", svg_number(Y(t))}, {"stroke", "#e4e4e4"}});
    svg.element("text", {{"x", svg_number(left - 6)}, {"y", svg_number(Y(t) + 4)}, {"text-anchor", "end"},
                         {"font-size", "12"}},
                tick_label(t));
  }
  svg.element("rect", {{"x", svg_number(left)}, {"y", svg_number(top)}, {"width", svg_number(right - left)},
                       {"height", svg_number(bottom - top)}, {"fill", "none"}, {"stroke", "#444"}});
  svg.element("text", {{"x", svg_number((left + right) / 2)}, {"y", svg_number(bottom + 38)},
                       {"text-anchor", "middle"}, {"font-size", "13"}},
              p.x_label);
  const double ymid = (top + bottom) / 2, ylabel_x = x0 + 18;
  svg.element("text", {{"x", svg_number(ylabel_x)}, {"y", svg_number(ymid)}, {"text-anchor", "middle"},
                       {"font-size", "13"},
                       {"transform", "rotate(-90 " + svg_number(ylabel_x) + " " + svg_number(ymid) + ")"}},
              p.y_label);
  for (const ChartSeries& s : p.series) {
    svg.open("g", {{"class", "series"}, {"data-series", s.name}});
    std::string pts;
    for (const ChartPoint& pt : s.points)
      if (pt.x > 0 && pt.y > 0) pts += (pts.empty() ? "" : " ") + svg_number(X(pt.x)) + "," + svg_number(Y(pt.y));
    if (!pts.empty())
      svg.element("polyline", {{"points", pts}, {"fill", "none"}, {"stroke", s.color}, {"stroke-width", "2"},
                               {"stroke-dasharray", dash(s.dashed)}});
    for (const ChartPoint& pt : s.points) {
      if (!(pt.x > 0 && pt.y > 0)) continue;
      svg.open("circle", {{"cx", svg_number(X(pt.x))}, {"cy", svg_number(Y(pt.y))}, {"r", "3.5"},
                          {"fill", s.color}});
      char tip[160];
      std::snprintf(tip, sizeof tip, "%s: n = %g, %.4g %s", s.name.c_str(), pt.x, pt.y, p.y_unit.c_str());
      svg.element("title", {}, tip);
      svg.close();
    }
    svg.close();
  }
  svg.close();
}

}  // namespace

std::string log_log_chart(const std::string& title, const std::vector<ChartPanel>& panels,
                          const std::vector<std::string>& caption_lines) {
  const double width = kPanelWidth * std::max<size_t>(1, panels.size());
  // 12 px text averages under 7 px a character in the usual sans fonts.
  std::vector<std::string> caption;
  for (const std::string& line : caption_lines)
    for (const std::string& part : wrapped(line, (size_t)((width - 24) / 7))) caption.push_back(part);
  const double height = kTitleHeight + kPanelHeight + kCaptionLine * caption.size() + 12;
  Svg svg(width, height);
  svg.element("rect", {{"width", "100%"}, {"height", "100%"}, {"fill", "white"}});
  svg.open("g", {{"font-family", "DejaVu Sans, Helvetica, Arial, sans-serif"}, {"fill", "#222"}});
  svg.element("text", {{"x", svg_number(width / 2)}, {"y", "22"}, {"text-anchor", "middle"}, {"font-size", "17"},
                       {"font-weight", "bold"}},
              title);
  // One legend for every panel: their series share names and styles.
  if (!panels.empty()) {
    const std::vector<ChartSeries>& series = panels[0].series;
    const double item = 170, x_start = width / 2 - item * series.size() / 2;
    svg.open("g", {{"class", "legend"}});
    for (size_t i = 0; i < series.size(); ++i) {
      const double x = x_start + item * i, y = 46;
      svg.element("line", {{"x1", svg_number(x)}, {"y1", svg_number(y)}, {"x2", svg_number(x + 32)},
                           {"y2", svg_number(y)}, {"stroke", series[i].color}, {"stroke-width", "2"},
                           {"stroke-dasharray", dash(series[i].dashed)}});
      svg.element("circle", {{"cx", svg_number(x + 16)}, {"cy", svg_number(y)}, {"r", "3.5"},
                             {"fill", series[i].color}});
      svg.element("text", {{"x", svg_number(x + 38)}, {"y", svg_number(y + 4)}, {"font-size", "13"}},
                  series[i].name);
    }
    svg.close();
  }
  for (size_t i = 0; i < panels.size(); ++i) draw_panel(svg, panels[i], kPanelWidth * i, kTitleHeight);
  svg.open("g", {{"class", "caption"}, {"font-size", "12"}});
  for (size_t i = 0; i < caption.size(); ++i)
    svg.element("text", {{"x", "12"}, {"y", svg_number(kTitleHeight + kPanelHeight + kCaptionLine * (i + 1))}},
                caption[i]);
  svg.close();
  return svg.finish();
}

}  // namespace nystrom::benchtool
