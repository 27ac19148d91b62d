#include "cost_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace dwt {

namespace {

double log2_ratio(double a, double b) { return std::abs(std::log2(std::max(a, 1.0) / std::max(b, 1.0))); }

}  // namespace

std::string tile_signature(std::string_view family, const std::vector<KernelParam>& params) {
  std::string s(family);
  for (const KernelParam& p : params) {
    if (p.name == "kh" || p.name == "kw")
      s += fmt::format(" {}={}", p.name, p.value > 0 ? "fixed" : "any");
    else
      s += fmt::format(" {}={}", p.name, p.value);
  }
  return s;
}

DispatchModel::DispatchModel(std::vector<std::string> signatures, std::vector<ModelSample> samples,
                             ModelWeights w)
    : signatures_(std::move(signatures)), samples_(std::move(samples)), w_(w) {
  for (std::size_t i = 0; i < signatures_.size(); ++i) sig_index_.emplace(signatures_[i], static_cast<int>(i));
  std::vector<int> twin(signatures_.size(), -1);  // any-filter signature -> its compiled-filter twin
  constexpr std::string_view any = "kh=any kw=any", fixed = "kh=fixed kw=fixed";
  for (std::size_t i = 0; i < signatures_.size(); ++i)
    if (const std::size_t at = signatures_[i].find(any); at != std::string::npos)
      twin[i] = signature_index(std::string(signatures_[i]).replace(at, any.size(), fixed));
  lent_.resize(samples_.size());
  for (std::size_t j = 0; j < samples_.size(); ++j) {
    const auto& rel = samples_[j].rel;
    for (const auto& [sig, r] : rel) {
      const int t = twin[sig];
      if (t >= 0 && std::none_of(rel.begin(), rel.end(), [&](const auto& x) { return int(x.first) == t; }))
        lent_[j].emplace_back(static_cast<std::uint32_t>(t), r);
    }
  }
}

int DispatchModel::signature_index(std::string_view sig) const {
  auto it = sig_index_.find(std::string(sig));
  return it == sig_index_.end() ? -1 : it->second;
}

double DispatchModel::distance(const ConvShape& a, std::string_view gpu_a, const ConvShape& b,
                               std::string_view gpu_b) const {
  double d = 0;
  if (a.dtype != b.dtype) d += w_.dtype;
  if (a.layout != b.layout) d += w_.layout;
  if (a.kh != b.kh || a.kw != b.kw)
    d += w_.filter + w_.filter_area * log2_ratio(double(a.kh) * a.kw, double(b.kh) * b.kw);
  if (a.sh != b.sh || a.sw != b.sw) d += w_.stride;
  if (a.dh != b.dh || a.dw != b.dw) d += w_.dilation;
  if (a.m != b.m) d += w_.multiplier;
  d += w_.out_w * log2_ratio(double(a.out_w()), double(b.out_w()));
  d += w_.out_h * log2_ratio(double(a.out_h()), double(b.out_h()));
  d += w_.planes * log2_ratio(double(a.n * a.out_c()), double(b.n * b.out_c()));
  d += w_.size * log2_ratio(double(a.output_elems()), double(b.output_elems()));
  if (gpu_a != gpu_b) d += w_.gpu;
  return d;
}

std::vector<Prediction> DispatchModel::predict_all(const ConvShape& s, std::string_view gpu_name,
                                                   std::string_view exclude_key) const {
  std::vector<double> num(signatures_.size(), 0.0);
  std::vector<Prediction> out(signatures_.size());
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<double> dist(samples_.size(), inf);
  double nearest = inf;
  for (std::size_t j = 0; j < samples_.size(); ++j) {
    const ModelSample& m = samples_[j];
    if (!exclude_key.empty() && m.key == exclude_key) continue;
    dist[j] = distance(s, gpu_name, m.problem, m.gpu_name);
    nearest = std::min(nearest, dist[j]);
  }
  for (std::size_t j = 0; j < samples_.size(); ++j) {
    if (dist[j] == inf) continue;
    const double w = std::exp(nearest - dist[j]);
    if (w < 1e-12) continue;
    for (const auto* rels : {&samples_[j].rel, &lent_[j]})
      for (const auto& [sig, rel] : *rels) {
        num[sig] += w * rel;
        out[sig].evidence += w;
        out[sig].similar += dist[j] <= 2;
      }
  }
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i].log_rel = (num[i] + w_.prior_weight * w_.prior) / (out[i].evidence + w_.prior_weight);
  return out;
}

}  // namespace dwt
