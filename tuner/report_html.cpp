// The HTML report: one self-contained file with inline SVG charts; nothing is fetched, nothing is
// scripted.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>

#include "report_model.hpp"

namespace dwt::report {

namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string html_grid(const Grid& g, std::string_view cls) {
  std::string out = fmt::format("<div class=\"scroll\"><table class=\"{}\">", cls);
  // Key-value tables have no header; markdown needs one, HTML does not.
  if (std::any_of(g.head.begin(), g.head.end(), [](const auto& h) { return !h.empty(); })) {
    out += "<thead><tr>";
    for (const auto& h : g.head) out += fmt::format("<th>{}</th>", html_escape(h));
    out += "</tr></thead>";
  }
  out += "<tbody>\n";
  for (const auto& row : g.rows) {
    out += "<tr>";
    for (const auto& c : row) {
      std::string body = html_escape(c.text);
      if (c.code) body = fmt::format("<code>{}</code>", body);
      if (c.strong) body = fmt::format("<strong>{}</strong>", body);
      const char* klass = c.bad && c.num ? " class=\"num bad\""
                          : c.bad        ? " class=\"bad\""
                          : c.na         ? " class=\"na\""
                          : c.num        ? " class=\"num\""
                                         : "";
      out += fmt::format("<td{}>{}</td>", klass, body);
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

const char* family_color(const Model& m, const std::string& family) {
  static constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1",
                                             "#76b7b2", "#edc948", "#ff9da7", "#9c755f"};
  if (family == "naive") return "#a9a9a9";
  if (family == "cuDNN") return "#4d4d4d";
  auto it = std::find(m.families.begin(), m.families.end(), family);
  const auto i = static_cast<std::size_t>(it - m.families.begin());
  return kPalette[i % std::size(kPalette)];
}

// At most this many tick intervals on any axis, whatever the values.
constexpr int kMaxTicks = 10;

// A step of 1, 2 or 5 times a power of ten giving about `ticks` intervals over [0, v], from
// log10 of the range; 0 when v is not a positive finite number (then no ticks are drawn).
double nice_step(double v, int ticks) {
  if (!positive(v)) return 0;
  const double lg = std::log10(v / ticks);
  if (!std::isfinite(lg)) return 0;
  const double p = std::pow(10.0, std::floor(lg));
  const double f = v / ticks / p;
  const double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  return positive(step) ? step : 0;
}

std::string clip(std::string s, std::size_t n) {
  if (s.size() <= n) return s;
  s.resize(n - 3);
  return s + "...";
}

// Horizontal bars: GB/s of each family's best and cuDNN, with the copy bandwidth as the floor line.
std::string bar_chart(const Model& m, const Row& r) {
  std::vector<const Measure*> bars;
  for (const auto& fm : r.fam) bars.push_back(&fm);
  bars.push_back(&r.cudnn);
  double vmax = positive(m.bw) ? m.bw : 0;
  for (const auto* b : bars)
    if (b->has) vmax = std::max(vmax, b->gbps);
  if (!positive(vmax) || !positive(vmax * 1.04)) vmax = positive(m.bw) ? m.bw : 1;
  double step = nice_step(vmax * 1.04, 5);
  double top_v = step > 0 ? std::ceil(vmax * 1.04 / step) * step : vmax;
  if (!positive(top_v)) top_v = 1;

  const int W = 780, x0 = 110, x1 = 540, top = 30, rowh = 24;
  const int n = static_cast<int>(bars.size());
  const int bottom = top + n * rowh, H = bottom + 40;
  auto X = [&](double v) {
    const double f = v / top_v;
    return x0 + (x1 - x0) * (std::isfinite(f) ? std::clamp(f, 0.0, 1.0) : 1.0);
  };
  const std::string name = html_escape(r.e->problem.name);

  std::string s = fmt::format(
      "<svg class=\"chart\" data-problem=\"{}\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "role=\"img\">\n<title>{}: GB/s of each family's best and of cuDNN</title>\n",
      name, W, H, W, H, name);
  // Ticks by index, never by accumulation: a bounded count whatever the values.
  const int nticks = step > 0 ? std::min(kMaxTicks, static_cast<int>(std::floor(top_v / step + 1e-9))) : 0;
  for (int i = 0; i <= nticks; ++i) {
    const double v = i * step;
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#e1e4e8\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#57606a\">{4}</text>\n",
        X(v), top - 4, bottom, bottom + 14, rate_text(v));
  }
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#57606a\">GB/s (the "
      "pass's tensors, each once, over the median time)</text>\n",
      (x0 + x1) / 2, H - 6);
  for (int i = 0; i < n; ++i) {
    const Measure& b = *bars[i];
    const int y = top + i * rowh;
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\"{}>{}</text>\n", x0 - 8, y + 16,
                     b.winner ? " font-weight=\"bold\"" : "", html_escape(b.label));
    if (!b.has) {
      s += fmt::format(
          "<text x=\"{}\" y=\"{}\" fill=\"#6e7781\" font-style=\"italic\">{}<title>{}"
          "</title></text>\n",
          x0 + 6, y + 16, html_escape(clip(na_text(b.na), 90)), html_escape(na_text(b.na)));
      continue;
    }
    s += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"16\" fill=\"{}\"{}><title>{} {}: {} ms"
        "</title></rect>\n",
        x0, y + 4, std::max(1.0, X(b.gbps) - x0), family_color(m, b.label),
        b.winner ? " stroke=\"#1f2328\" stroke-width=\"1.5\"" : "", html_escape(b.label),
        html_escape(b.kernel), ms_text(b.time.median_ms));
    // A white halo keeps the label readable where it crosses the floor line.
    s += fmt::format(
        "<text x=\"{:.1f}\" y=\"{}\" paint-order=\"stroke\" stroke=\"#fff\" "
        "stroke-width=\"3\"{}>{} GB/s · {} · {} ms{}</text>\n",
        X(b.gbps) + 5, y + 16, b.winner ? " font-weight=\"bold\"" : "", rate_text(b.gbps),
        pct_text(b.share), ms_text(b.time.median_ms), b.winner ? " · winner" : "");
  }
  if (positive(m.bw)) {
    const double xb = X(m.bw);
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#cf222e\" "
        "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#cf222e\">copy "
        "bandwidth {4:.0f} GB/s (floor)</text>\n",
        xb, top - 8, bottom, top - 12, m.bw);
  }
  return s + "</svg>\n";
}

std::string decade_text(int k) {
  if (k >= 0 && k <= 6) return fmt::format("{:.0f}", std::pow(10.0, k));
  if (k < 0 && k >= -3) return fmt::format("{:.{}f}", std::pow(10.0, k), -k);
  return fmt::format("1e{}", k);
}

// Log-log: achieved GFLOP/s against FLOP per byte, under the roof that the copy bandwidth sets.
std::string roofline(const Model& m) {
  struct Point {
    double x, y;
    std::string tip;
    const char* color;
    bool cudnn;
  };
  // Points carry no text (labels of nearby problems would print over each other): each has a
  // hover title, and the numbered legend under the chart lists them.
  std::vector<Point> pts;
  for (std::size_t i = 0; i < m.rows.size(); ++i) {
    const Row& r = m.rows[i];
    if (!positive(r.intensity)) continue;
    const std::string& name = r.e->problem.name;
    if (r.win.has && positive(r.win.gflops))
      pts.push_back({r.intensity, r.win.gflops,
                     fmt::format("{}. {}: {} {} GFLOP/s, {} FLOP/byte", i + 1, name, r.win.kernel,
                                 rate_text(r.win.gflops), sig(r.intensity, 3)),
                     family_color(m, r.win.cand->family), false});
    if (r.cudnn.has && positive(r.cudnn.gflops))
      pts.push_back({r.intensity, r.cudnn.gflops,
                     fmt::format("{}. {}: cuDNN {} GFLOP/s", i + 1, name, rate_text(r.cudnn.gflops)),
                     family_color(m, "cuDNN"), true});
  }
  const int W = 780, H = 440, l = 70, rgt = 180, t = 20, b = 50;
  const int px0 = l, px1 = W - rgt, py0 = t, py1 = H - b;
  std::string s = fmt::format(
      "<svg class=\"roofline\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\">"
      "\n<title>Roofline: achieved GFLOP/s of each problem's winner and of cuDNN</title>\n",
      W, H);
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
      "stroke=\"#8c959f\"/>\n",
      px0, py0, px1 - px0, py1 - py0);
  if (pts.empty()) {
    s += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no problem has a time to "
        "plot</text>\n</svg>\n",
        (px0 + px1) / 2, (py0 + py1) / 2);
    return s;
  }
  double xlo = pts[0].x, xhi = xlo, ylo = pts[0].y, yhi = ylo;
  for (const auto& p : pts) {
    xlo = std::min(xlo, p.x), xhi = std::max(xhi, p.x);
    ylo = std::min(ylo, p.y), yhi = std::max(yhi, p.y);
  }
  // Decades as integers, from finite logs only (every point is positive and finite).
  auto decade = [](double v, bool up) {
    const double lg = std::log10(v);
    return static_cast<int>(std::clamp(up ? std::ceil(lg) : std::floor(lg), -400.0, 400.0));
  };
  const int dx0 = decade(xlo / 1.3, false);
  const int dx1 = std::max(dx0 + 1, decade(xhi * 1.3, true));
  if (positive(m.bw)) {  // the roof must fit over the whole x range
    ylo = std::min(ylo, m.bw * std::pow(10.0, dx0));
    yhi = std::max(yhi, m.bw * std::pow(10.0, dx1));
  }
  const int dy0 = positive(ylo / 1.3) ? decade(ylo / 1.3, false) : -400;
  const int dy1 = std::max(dy0 + 1, positive(yhi * 1.3) ? decade(yhi * 1.3, true) : 400);
  auto X = [&](double v) { return px0 + (px1 - px0) * (std::log10(v) - dx0) / (dx1 - dx0); };
  auto Y = [&](double v) { return py1 - (py1 - py0) * (std::log10(v) - dy0) / (dy1 - dy0); };
  // At most kMaxTicks labelled decades per axis; minor lines only when every decade is labelled.
  const int xstep = std::max(1, (dx1 - dx0 + kMaxTicks - 1) / kMaxTicks);
  const int ystep = std::max(1, (dy1 - dy0 + kMaxTicks - 1) / kMaxTicks);

  // x labels at py1 + 18: the lowest y label (baseline py1 + 4) ends where the first x label
  // starts, and at py1 + 15 their boxes met in the corner.
  for (int k = dx0; k <= dx1; k += xstep) {
    for (int f = 2; f <= 9 && k < dx1 && xstep == 1; ++f)
      s += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" "
          "stroke=\"#f0f2f4\"/>",
          X(f * std::pow(10.0, k)), py0, py1);
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#d0d7de\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#57606a\">{4}"
        "</text>\n",
        X(std::pow(10.0, k)), py0, py1, py1 + 18, decade_text(k));
  }
  for (int k = dy0; k <= dy1; k += ystep)
    s += fmt::format(
        "<line x1=\"{1}\" y1=\"{0:.1f}\" x2=\"{2}\" y2=\"{0:.1f}\" stroke=\"#d0d7de\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\" fill=\"#57606a\">{5}</text>\n",
        Y(std::pow(10.0, k)), px0, px1, px0 - 6, Y(std::pow(10.0, k)) + 4, decade_text(k));
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#57606a\">arithmetic "
      "intensity (FLOP per byte moved)</text>\n",
      (px0 + px1) / 2, H - 12);
  s += fmt::format(
      "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" "
      "fill=\"#57606a\">achieved GFLOP/s</text>\n",
      (py0 + py1) / 2);
  if (positive(m.bw)) {
    const double a = std::pow(10.0, dx0), z = std::pow(10.0, dx1);
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
        "stroke=\"#cf222e\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n",
        X(a), Y(m.bw * a), X(z), Y(m.bw * z));
  }
  for (const auto& p : pts) {
    const double x = X(p.x), y = Y(p.y);
    if (p.cudnn)
      s += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"8\" height=\"8\" fill=\"none\" "
          "stroke=\"{}\" stroke-width=\"1.5\"><title>{}</title></rect>\n",
          x - 4, y - 4, p.color, html_escape(p.tip));
    else
      s += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\" stroke=\"#1f2328\" "
          "stroke-width=\"0.6\"><title>{}</title></circle>\n",
          x, y, p.color, html_escape(p.tip));
  }
  // Legend: winner colours by family, cuDNN, the roof.
  int ly = py0 + 10;
  const int lx = px1 + 16;
  std::set<std::string> used;
  for (const auto& r : m.rows)
    if (r.win.has) used.insert(r.win.cand->family);
  for (const auto& f : m.families) {
    if (!used.count(f)) continue;
    s += fmt::format(
        "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{}\" stroke=\"#1f2328\" "
        "stroke-width=\"0.6\"/><text x=\"{}\" y=\"{}\">winner: {}</text>\n",
        lx, ly, family_color(m, f), lx + 12, ly + 4, html_escape(f));
    ly += 18;
  }
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"{}\" "
      "stroke-width=\"1.5\"/><text x=\"{}\" y=\"{}\">cuDNN</text>\n",
      lx - 4, ly - 4, family_color(m, "cuDNN"), lx + 12, ly + 4);
  ly += 18;
  if (positive(m.bw))
    s += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#cf222e\" "
        "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/><text x=\"{}\" y=\"{}\">"
        "roof: {:.0f} GB/s × intensity</text>\n",
        lx - 6, ly, lx + 6, ly, lx + 12, ly + 4, m.bw);
  return s + "</svg>\n";
}

// Every candidate's time per problem, by family, relative to the problem's winner (log scale):
// how the tile space behaves. Only problems whose table kept their candidates (--keep-all).
std::string candidate_chart(const Model& m) {
  struct Dot {
    double ratio;
    const CandidateResult* c;
  };
  struct Lane {
    std::size_t row;
    std::vector<Dot> dots;
    int not_supported = 0, failed = 0;
  };
  std::vector<Lane> lanes;
  double rmax = 1;
  for (std::size_t i = 0; i < m.rows.size(); ++i) {
    const Row& r = m.rows[i];
    if (r.e->candidates.empty() || !r.win.has) continue;
    Lane lane{i, {}, 0, 0};
    for (const auto& c : r.e->candidates) {
      if (c.status == Disposition::not_supported) {
        ++lane.not_supported;
      } else if (c.status != Disposition::passed || !c.time || !positive(c.time->median_ms)) {
        ++lane.failed;
      } else {
        const double ratio = c.time->median_ms / r.win.time.median_ms;
        if (!positive(ratio)) continue;
        lane.dots.push_back({ratio, &c});
        rmax = std::max(rmax, ratio);
      }
    }
    lanes.push_back(std::move(lane));
  }
  if (lanes.empty())
    return "<p class=\"na\">This table kept no candidates (tune with --keep-all to record every "
           "candidate's time).</p>\n";
  // 250 px right of the plot for "N timed · N failed · N not supported", three digits each.
  const int W = 860, x0 = 150, x1 = 600, top = 40, laneh = 24;
  const int H = top + static_cast<int>(lanes.size()) * laneh + 36;
  const int d1 = std::clamp(static_cast<int>(std::ceil(std::log10(rmax * 1.05))), 1, 400);
  const int dstep = std::max(1, (d1 + kMaxTicks - 1) / kMaxTicks);
  auto X = [&](double ratio) { return x0 + (x1 - x0) * std::log10(ratio) / d1; };
  std::string s = fmt::format(
      "<svg class=\"candidates\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\">\n<title>Every candidate's median time over the winner's, per problem, "
      "coloured by family</title>\n",
      W, H);
  const int bottom = top + static_cast<int>(lanes.size()) * laneh;
  for (int k = 0; k <= d1; k += dstep)
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#d0d7de\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\" fill=\"#57606a\">{4}×</text>\n",
        X(std::pow(10.0, k)), top - 4, bottom, bottom + 14, decade_text(k));
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#57606a\">median time over the "
      "winner's (log scale; 1× is the winner)</text>\n",
      (x0 + x1) / 2, H - 6);
  // Family legend across the top, one fixed-width slot each.
  const int slot = std::max(60, (W - x0) / std::max<int>(1, static_cast<int>(m.families.size())));
  for (std::size_t f = 0; f < m.families.size(); ++f) {
    const int lx = x0 + static_cast<int>(f) * slot;
    s += fmt::format(
        "<circle cx=\"{}\" cy=\"14\" r=\"4\" fill=\"{}\"/><text x=\"{}\" y=\"18\">{}</text>\n",
        lx, family_color(m, m.families[f]), lx + 8, html_escape(clip(m.families[f], 10)));
  }
  const auto nf = std::max<std::size_t>(1, m.families.size());
  for (std::size_t l = 0; l < lanes.size(); ++l) {
    const Lane& lane = lanes[l];
    const Row& r = m.rows[lane.row];
    const int y = top + static_cast<int>(l) * laneh;
    s += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}<title>{}</title></text>\n", x0 - 8,
        y + 16, html_escape(clip(r.e->problem.name, 20)), html_escape(r.e->problem.name));
    for (const Dot& d : lane.dots) {
      const auto fi = static_cast<std::size_t>(
          std::find(m.families.begin(), m.families.end(), d.c->family) - m.families.begin());
      const double dy = 4 + (laneh - 8) * (static_cast<double>(fi % nf) + 0.5) / static_cast<double>(nf);
      s += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\" fill-opacity=\"0.75\">"
          "<title>{}: {} ms ({}× the winner)</title></circle>\n",
          X(d.ratio), y + dy, family_color(m, d.c->family), html_escape(d.c->kernel),
          ms_text(d.c->time->median_ms), sig(d.ratio, 3));
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#57606a\">{} timed · {} failed · {} not supported</text>\n",
                     x1 + 10, y + 16, lane.dots.size(), lane.failed, lane.not_supported);
  }
  return s + "</svg>\n";
}

// The roofline's points by number: what each hover title says, for readers without a pointer.
Grid roofline_legend(const Model& m) {
  Grid g{{"#", "problem", "FLOP/byte", "winner GFLOP/s", "cuDNN GFLOP/s", "% copy bw"}};
  for (std::size_t i = 0; i < m.rows.size(); ++i) {
    const Row& r = m.rows[i];
    g.rows.push_back({num(fmt::format("{}", i + 1)), code(r.e->problem.name), num(sig(r.intensity, 3)),
                      r.win.has ? num(rate_text(r.win.gflops)) : na_cell(r.win.na),
                      r.cudnn.has ? num(rate_text(r.cudnn.gflops)) : na_cell(r.cudnn.na),
                      num(pct_text(r.win.share))});
  }
  return g;
}

constexpr const char* kCss = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2328; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin-top: 0; } h2 { margin-top: 32px; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.na { color: #6e7781; font-style: italic; }
td.bad { color: #a40e26; background: #ffebe9; font-weight: 600; }
nav.toc { background: #f6f8fa; border: 1px solid #d0d7de; padding: 8px 16px; margin: 12px 0; }
nav.toc ol { margin: 4px 0; padding-left: 20px; } nav.toc li { margin: 1px 0; }
nav.toc ol.problems { columns: 4 12em; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.scroll { overflow-x: auto; }
section.problem { margin-top: 28px; }
section.problem h3 { margin-bottom: 2px; }
p.shape { color: #57606a; margin-top: 0; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-size: 11px; fill: #1f2328; }
)";

}  // namespace

std::string render_html(const Model& m, const Table* vs) {
  const Table& t = m.t;
  const std::string title = html_escape(fmt::format("dwtune report: {}", t.meta.config_name));
  std::string out = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0}</title>\n<style>{1}</style>\n</head>\n<body>\n<main id=\"dwtune-report\">\n"
      "<h1>{0}</h1>\n",
      title, kCss);
  out += html_grid(meta_grid(t), "meta");
  out += "<nav class=\"toc\"><strong>Contents</strong><ol>"
         "<li><a href=\"#summary\">Summary</a></li><li><a href=\"#roofline\">Roofline</a></li>"
         "<li><a href=\"#candidates\">Every candidate</a></li>";
  if (vs) out += "<li><a href=\"#comparison\">Comparison</a></li>";
  out += "<li><a href=\"#problems\">Problems</a></li><li><a href=\"#families\">Best of each "
         "family</a></li><li><a href=\"#launch\">Winners and launch configurations</a></li>"
         "<li><a href=\"#per-problem\">Per problem</a><ol class=\"problems\">";
  for (std::size_t i = 0; i < m.rows.size(); ++i)
    out += fmt::format("<li><a href=\"#{}\">{}</a></li>", anchor_of(i, m.rows[i].e->problem.name),
                       html_escape(m.rows[i].e->problem.name));
  out += "</ol></li></ol></nav>\n";
  out += "<h2 id=\"summary\">Summary</h2>\n" + html_grid(summary_grid(m), "summary");
  out +=
      "<h2 id=\"roofline\">Roofline</h2>\n<p>Each problem's winner (dots, coloured by family) and "
      "cuDNN (squares); the dashed roof is the copy bandwidth times the arithmetic intensity. "
      "Hover over a point for its problem; the table below lists them by number.</p>\n";
  out += roofline(m);
  out += "<details><summary>Roofline points</summary>\n" + html_grid(roofline_legend(m), "roofline-points") +
         "</details>\n";
  out += "<h2 id=\"candidates\">Every candidate</h2>\n<p>Each dot is one candidate's median time "
         "over the winner's, coloured by family: how the tile space behaves per problem.</p>\n";
  out += candidate_chart(m);
  if (vs) {
    auto rows = build_vs(t, *vs);
    out += "<h2 id=\"comparison\">Comparison</h2>\n";
    out += fmt::format("<p>A: this table ({}). B: {}. Problems are matched by key.</p>\n",
                       html_escape(table_label(t)), html_escape(table_label(*vs)));
    out += html_grid(vs_grid(rows), "vs");
    out += fmt::format("<p>{}</p>\n", html_escape(vs_summary(rows)));
  }
  out += fmt::format("<h2 id=\"problems\">Problems</h2>\n<p>{}</p>\n", html_escape(kBytesNote));
  out += html_grid(overview_grid(m), "overview");
  out += "<h2 id=\"families\">Best of each family</h2>\n<p>Median ms; the winner in bold. A "
         "family that cannot run a shape says \"not supported\"; one whose candidates ran and "
         "failed says FAILED.</p>\n";
  out += html_grid(family_grid(m), "families");
  out += "<h2 id=\"launch\">Winners and launch configurations</h2>\n" + html_grid(launch_grid(m), "launch");
  out += "<h2 id=\"per-problem\">Per problem</h2>\n";
  for (std::size_t i = 0; i < m.rows.size(); ++i) {
    const Row& r = m.rows[i];
    out += fmt::format(
        "<section class=\"problem\" id=\"{}\">\n<h3>{}</h3>\n"
        "<p class=\"shape\">{}</p>\n",
        html_escape(anchor_of(i, r.e->problem.name)), html_escape(r.e->problem.name), html_escape(problem_line(r, m.bw)));
    out += bar_chart(m, r);
    out += html_grid(problem_grid(r), "problem");
    out += "</section>\n";
  }
  return out + "</main>\n</body>\n</html>\n";
}

}  // namespace dwt::report
