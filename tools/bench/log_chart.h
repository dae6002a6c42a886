// Log-log line charts as SVG (svg.h): panels side by side, each with its
// axes, ticks, labels and series, one legend for all, a title and caption
// lines. Each series is a <g class="series" data-series="NAME"> holding its
// line and point markers (with <title> tooltips), so that a reader or a
// test can find it.
#pragma once
#include <string>
#include <vector>

namespace nystrom::benchtool {

struct ChartPoint {
  double x = 0, y = 0;
};

struct ChartSeries {
  std::string name;   // legend text and data-series
  std::string color;  // an SVG colour
  bool dashed = false;
  std::vector<ChartPoint> points;  // x and y > 0; in x order
};

struct ChartPanel {
  std::string title, x_label, y_label;
  std::string y_unit;       // after the values in tooltips
  double x_min = 0, x_max = 0;  // the x range to show at least (0: the data's)
  std::vector<ChartSeries> series;  // the same names, colours and order in every panel
};

// The whole SVG document. A panel whose series hold no point still gets
// its axes (over a default range).
std::string log_log_chart(const std::string& title, const std::vector<ChartPanel>& panels,
                          const std::vector<std::string>& caption);

}  // namespace nystrom::benchtool
