// How a kernel family declares itself, and the one place where a declaration becomes a KernelDesc,
// a support check and a registered Operation.
//
// A family is a class template F<T, KSize K, Tile P> (T the element type, K the compile-time filter
// size or KSize{} for run-time sizes, P a tile: an aggregate of named int fields) with
//   static constexpr FamilyInfo family;      name, layout, requirements, dispatch preference
//   static constexpr KSize ksize = K;  static constexpr Tile tile = P;
//   static LaunchConfig config(const ConvShape&);
//   static void launch(const ConvArgs&, const LaunchConfig&, cudaStream_t);
// and optionally
//   static constexpr std::size_t smem_bytes;    dynamic shared memory, the same for every shape
//   static std::size_t workspace_bytes(const ConvShape&);  device scratch (ConvArgs::workspace)
//   static constexpr Tile default_tile;         the tile dispatch's default rule tries first
//   static Support supports(const ConvShape&, const DeviceLimits&);  checks beyond the declared ones
// The Tile type lists its fields once (`static constexpr auto fields()`): each field's name in
// KernelDesc::params and its piece of the procedural name. Its tile list and its `add_<family><T>`
// function sit beside it in the family's header; kernels/CMakeLists.txt's DWTUNE_FAMILIES names it.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common.cuh"

namespace dwt {

// Compile-time filter size; KSize{} (0 x 0): the kernel takes the size at run time.
struct KSize {
  int kh = 0, kw = 0;
};

inline constexpr KSize kAnySize[] = {KSize{}};

// When a field's value appears in the procedural name.
enum class Show {
  always,   // tag + value
  nonzero,  // tag + value, unless the value is 0
  above1,   // tag + value, unless the value is 0 or 1
  flag,     // tag alone, when the value is not 0
  any0,     // tag + value, or tag + "any" when the value is 0 (given at run time)
};

// One named field of a tile: its key in KernelDesc::params, its name piece ("_r", "x", ...), and
// its value: the member, times the filter height where `per_filter_row` (e.g. rows per stage given
// in units of KH).
template <class Tile>
struct Field {
  const char* name;
  const char* tag;
  int Tile::*member;
  Show show = Show::always;
  bool per_filter_row = false;
  const char* unit = "";  // after the value in the name

  constexpr int value(const Tile& t, KSize k) const { return t.*member * (per_filter_row ? k.kh : 1); }
};

struct FamilyInfo {
  const char* name;
  Layout layout = Layout::nchw;
  Pass pass = Pass::forward;  // forward, dgrad (input gradient) or wgrad (weight gradient)
  bool filter_param = true;  // the filter size is a template parameter (KSize{}: run-time size)
  int min_cc = 0;            // minimum compute capability (major * 10 + minor)
  bool unit_stride = false;  // stride 1 and dilation 1 only
  int preference = -1;       // dispatch default: lower first; -1: never a default choice
};

inline std::string ksize_tag(int kh, int kw) {
  return kh == 0 ? std::string("kany") : cat("k", kh, "x", kw);
}

template <class F>
constexpr std::size_t fixed_smem_bytes() {
  if constexpr (requires { F::smem_bytes; })
    return F::smem_bytes;
  else
    return 0;
}

template <class F>
constexpr bool is_default_tile() {
  if constexpr (requires { F::default_tile; })
    return F::tile == F::default_tile;
  else
    return false;
}

// The description of F<T, K, P>, built from its declaration alone.
template <class F, class T>
KernelDesc describe() {
  constexpr FamilyInfo fam = F::family;
  constexpr KSize k = F::ksize;
  constexpr auto tile = F::tile;
  KernelDesc d;
  d.family = fam.name;
  d.dtype = DTypeOf<T>::value;
  d.layout = fam.layout;
  d.pass = fam.pass;
  d.name = cat(fam.name, "_", to_string(d.dtype), "_", to_string(d.layout));
  if constexpr (fam.filter_param) {
    d.params = {{"kh", k.kh}, {"kw", k.kw}};
    d.name += "_" + ksize_tag(k.kh, k.kw);
  }
  for (const auto& f : decltype(tile)::fields()) {
    const int v = f.value(tile, k);
    d.params.push_back({f.name, v});
    const bool shown = f.show == Show::always || f.show == Show::any0 || (f.show == Show::nonzero && v != 0) ||
                       (f.show == Show::above1 && v > 1) || (f.show == Show::flag && v != 0);
    if (!shown) continue;
    if (f.show == Show::flag)
      d.name += f.tag;
    else if (f.show == Show::any0 && v == 0)
      d.name += cat(f.tag, "any");
    else
      d.name += cat(f.tag, v, f.unit);
  }
  d.threads = tile.block_threads();
  d.needs = {fam.min_cc, fam.unit_stride, k.kh, k.kw, fixed_smem_bytes<F>()};
  d.rank = {fam.preference, is_default_tile<F>()};
  return d;
}

// Checks every instantiation shares: dtype, layout, threads per block, shared memory, then the
// declared requirements.
inline Support common_support(const KernelDesc& d, const ConvShape& s, const DeviceLimits& lim,
                              std::size_t smem) {
  if (s.dtype != d.dtype)
    return Support::no(cat("dtype ", to_string(s.dtype), " != kernel dtype ", to_string(d.dtype)));
  if (s.layout != d.layout) return Support::no("layout not supported");
  if (s.pass != d.pass)
    return Support::no(cat("a ", to_string(d.pass), " kernel cannot compute pass ", to_string(s.pass)));
  if (d.threads > lim.max_threads_per_block)
    return Support::no(cat(d.threads, " threads per block > device limit ", lim.max_threads_per_block));
  if (smem > lim.max_smem_per_block)
    return Support::no(cat(smem, " bytes of shared memory > device limit ", lim.max_smem_per_block));
  const Requirements& r = d.needs;
  if (r.min_cc > 0 && lim.cc < r.min_cc)
    return Support::no(lim.cc == 0 ? cat(d.family, " kernels need sm_", r.min_cc, "; device unknown")
                                   : cat(d.family, " kernels need sm_", r.min_cc, "; device is sm_", lim.cc));
  if (r.unit_stride && (s.sh != 1 || s.sw != 1 || s.dh != 1 || s.dw != 1))
    return Support::no(cat(d.family, " kernels need stride 1 and dilation 1"));
  if (r.kh != 0 && (s.kh != r.kh || s.kw != r.kw))
    return Support::no(cat("compiled for a ", r.kh, "x", r.kw, " filter, problem has ", s.kh, "x", s.kw));
  return Support::yes();
}

// Type-erased Operation over one instantiation F of a family, for element type T.
template <class F, class T>
class OperationOf final : public Operation {
 public:
  OperationOf() : desc_(describe<F, T>()) {}
  const KernelDesc& desc() const override { return desc_; }
  Support supports(const ConvShape& s, const DeviceLimits& lim) const override {
    Support c = common_support(desc_, s, lim, F::config(s).smem_bytes);
    if (!c) return c;
    if constexpr (requires { F::supports(s, lim); }) return F::supports(s, lim);
    return Support::yes();
  }
  LaunchConfig config(const ConvShape& s) const override { return F::config(s); }
  std::size_t workspace_bytes(const ConvShape& s) const override {
    if constexpr (requires { F::workspace_bytes(s); })
      return F::workspace_bytes(s);
    else
      return 0;
  }
  void run(const ConvArgs& a, cudaStream_t stream) const override { F::launch(a, F::config(a.s), stream); }

 private:
  KernelDesc desc_;
};

using OpList = std::vector<std::unique_ptr<Operation>>;

// f.template operator()<Arr[i]>() for every element of a constexpr array, in order.
template <auto& Arr, class Fn>
void for_each_of(Fn&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f.template operator()<Arr[I]>(), ...);
  }(std::make_index_sequence<std::size(Arr)>{});
}

// Registers Family<T, K, P> for every filter size K of Sizes, then every tile P of Tiles: sizes
// outer, tiles inner (the registry order). `Family` is passed as a template lambda
// [&]<KSize K, Tile P> { return Family<T, K, P>{}; } since families' tile types differ.
template <class T, auto& Sizes, auto& Tiles, class Make>
void add_grid(OpList& ops, Make make) {
  for_each_of<Sizes>([&]<KSize K>() {
    for_each_of<Tiles>([&]<auto P>() {
      using F = decltype(make.template operator()<K, P>());
      ops.push_back(std::make_unique<OperationOf<F, T>>());
    });
  });
}

// add_grid with a tile list per element width: Tiles32 for 4-byte elements, Tiles16 for 2-byte ones.
template <class T, auto& Sizes, auto& Tiles32, auto& Tiles16, class Make>
void add_grid_by_width(OpList& ops, Make make) {
  if constexpr (sizeof(T) == 4)
    add_grid<T, Sizes, Tiles32>(ops, make);
  else
    add_grid<T, Sizes, Tiles16>(ops, make);
}

// A one-dimensional grid of `blocks` blocks (at most 2^31 - 1; supports() refuses more).
inline LaunchConfig block_launch(std::int64_t blocks, int threads, std::size_t smem) {
  LaunchConfig c;
  c.grid = dim3(static_cast<unsigned>(blocks < 0x7fffffff ? blocks : 0x7fffffff));
  c.block = dim3(threads);
  c.smem_bytes = smem;
  return c;
}

// Launches `kernel` with c's dynamic shared memory, opting in above the 48 KiB default first.
template <class... Params, class... Args>
void launch_kernel(void (*kernel)(Params...), const LaunchConfig& c, cudaStream_t st, Args&&... args) {
  if (c.smem_bytes > 48 * 1024)
    DWT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(c.smem_bytes)));
  kernel<<<c.grid, c.block, c.smem_bytes, st>>>(std::forward<Args>(args)...);
  DWT_CUDA_CHECK_LAUNCH();
}

// One (batch, output channel) plane: where its input, filter and output start, and its bias.
template <class T>
struct Plane {
  const T* x;           // [H, W] input plane of channel oc / M
  const T* w;           // [KH, KW] filter of channel oc
  T* y;                 // [OH, OW] output plane
  float bias;

  __device__ __forceinline__ Plane(const ConvArgs& a, std::int64_t plane) {
    const ConvShape& s = a.s;
    const std::int64_t OC = s.out_c(), n = plane / OC, oc = plane - n * OC;
    x = static_cast<const T*>(a.x) + (n * s.c + oc / s.m) * s.h * s.w;
    w = static_cast<const T*>(a.w) + oc * s.kh * s.kw;
    y = static_cast<T*>(a.y) + plane * s.out_h() * s.out_w();
    bias = bias_of<T>(a, oc);
  }

  // The KH x KW filter into registers, as floats.
  template <int KH, int KW>
  __device__ __forceinline__ void load_filter(float (&wr)[KH][KW]) const {
#pragma unroll
    for (int i = 0; i < KH; ++i)
#pragma unroll
      for (int j = 0; j < KW; ++j) wr[i][j] = ldg_f(w + i * KW + j);
  }
};

}  // namespace dwt
