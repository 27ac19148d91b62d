// fmt formatters so problems and kernel descriptions print the same everywhere.
#pragma once

#include <fmt/format.h>

#include "problem.hpp"

template <>
struct fmt::formatter<dwt::DType> : fmt::formatter<std::string_view> {
  auto format(dwt::DType d, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(dwt::to_string(d), ctx);
  }
};

template <>
struct fmt::formatter<dwt::Layout> : fmt::formatter<std::string_view> {
  auto format(dwt::Layout l, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(dwt::to_string(l), ctx);
  }
};

template <>
struct fmt::formatter<dwt::Pass> : fmt::formatter<std::string_view> {
  auto format(dwt::Pass p, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(dwt::to_string(p), ctx);
  }
};

// "N32 C128 H128 W256 k3x7 s1x1 p0x0 d1x1 m1 f32 nchw" (+ " bias", + " dgrad" or " wgrad")
template <>
struct fmt::formatter<dwt::ConvShape> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  auto format(const dwt::ConvShape& s, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "N{} C{} H{} W{} k{}x{} s{}x{} p{}x{} d{}x{} m{} {} {}{}{}{}", s.n,
                          s.c, s.h, s.w, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.dh, s.dw, s.m,
                          s.dtype, s.layout, s.bias ? " bias" : "",
                          s.pass == dwt::Pass::forward ? "" : " ", s.pass == dwt::Pass::forward ? "" : dwt::to_string(s.pass));
  }
};

template <>
struct fmt::formatter<dwt::Problem> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  auto format(const dwt::Problem& p, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}: {} -> {}x{}", p.name, static_cast<const dwt::ConvShape&>(p),
                          p.out_h(), p.out_w());
  }
};
