#include "cudnn_baseline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <vector>

#include "cuda_check.hpp"

#ifdef DWTUNE_HAVE_CUDNN
#include <cudnn.h>
#endif

namespace dwt {

#ifndef DWTUNE_HAVE_CUDNN

std::string cudnn_version_string() { return "none"; }
struct CudnnBaseline::Impl {};
CudnnBaseline::CudnnBaseline(cudaStream_t stream) : st_(stream) {}
CudnnBaseline::~CudnnBaseline() = default;
BaselineResult CudnnBaseline::run(const Problem&, ProblemBuffers&, Verifier&, Timer&,
                                  const TimerSettings&) {
  BaselineResult r;
  r.reason = "dwtune was built without cuDNN";
  return r;
}

#else

namespace {

// A cuDNN refusal: the baseline is then recorded as unavailable with this message.
struct CudnnError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void cudnn_check(cudnnStatus_t s, const char* call) {
  if (s != CUDNN_STATUS_SUCCESS)
    throw CudnnError(fmt::format("{} failed: {}", call, cudnnGetErrorString(s)));
}
#define DWT_CUDNN(call) cudnn_check((call), #call)

cudnnDataType_t cudnn_type(DType d) {
  switch (d) {
    case DType::f32: return CUDNN_DATA_FLOAT;
    case DType::f16: return CUDNN_DATA_HALF;
    case DType::bf16: return CUDNN_DATA_BFLOAT16;
  }
  return CUDNN_DATA_FLOAT;
}

const char* algo_name(cudnnConvolutionFwdAlgo_t a) {
  switch (a) {
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM: return "IMPLICIT_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM: return "IMPLICIT_PRECOMP_GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_GEMM: return "GEMM";
    case CUDNN_CONVOLUTION_FWD_ALGO_DIRECT: return "DIRECT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT: return "FFT";
    case CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING: return "FFT_TILING";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD: return "WINOGRAD";
    case CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED: return "WINOGRAD_NONFUSED";
    default: return "UNKNOWN";
  }
}

int as_int(std::int64_t v, const char* what) {
  if (v > 0x7fffffff) throw CudnnError(fmt::format("{} = {} exceeds cuDNN's int dimensions", what, v));
  return static_cast<int>(v);
}

// RAII for the descriptors of one problem.
struct Descriptors {
  cudnnTensorDescriptor_t x{}, y{}, b{};
  cudnnFilterDescriptor_t w{};
  cudnnConvolutionDescriptor_t conv{};
  Descriptors() {
    DWT_CUDNN(cudnnCreateTensorDescriptor(&x));
    DWT_CUDNN(cudnnCreateTensorDescriptor(&y));
    DWT_CUDNN(cudnnCreateTensorDescriptor(&b));
    DWT_CUDNN(cudnnCreateFilterDescriptor(&w));
    DWT_CUDNN(cudnnCreateConvolutionDescriptor(&conv));
  }
  ~Descriptors() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyTensorDescriptor(b);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
};

}  // namespace

std::string cudnn_version_string() {
  const std::size_t v = cudnnGetVersion();
  return fmt::format("{}.{}.{}", v / 10000, (v % 10000) / 100, v % 100);
}

struct CudnnBaseline::Impl {
  cudnnHandle_t handle{};
  ~Impl() {
    if (handle) cudnnDestroy(handle);
  }
};

CudnnBaseline::CudnnBaseline(cudaStream_t stream) : st_(stream), impl_(std::make_unique<Impl>()) {}
CudnnBaseline::~CudnnBaseline() = default;

BaselineResult CudnnBaseline::run(const Problem& p, ProblemBuffers& buf, Verifier& verifier,
                                  Timer& timer, const TimerSettings& ts) {
  BaselineResult r;
  try {
    if (!impl_->handle) DWT_CUDNN(cudnnCreate(&impl_->handle));
    cudnnHandle_t h = impl_->handle;
    DWT_CUDNN(cudnnSetStream(h, st_));
    Descriptors d;
    const cudnnDataType_t dt = cudnn_type(p.dtype);
    // Depthwise weights [C*M, 1, KH, KW] are the same bytes in NCHW and NHWC filter format; cuDNN's
    // channels_last kernels want the filter declared NHWC too, as PyTorch does.
    const cudnnTensorFormat_t fmt = p.layout == Layout::nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    DWT_CUDNN(cudnnSetTensor4dDescriptor(d.x, fmt, dt, as_int(p.n, "n"),
                                         as_int(p.c, "c"), as_int(p.h, "h"), as_int(p.w, "w")));
    DWT_CUDNN(cudnnSetFilter4dDescriptor(d.w, dt, fmt, as_int(p.out_c(), "out_c"), 1,
                                         p.kh, p.kw));
    DWT_CUDNN(cudnnSetConvolution2dDescriptor(d.conv, p.ph, p.pw, p.sh, p.sw, p.dh, p.dw,
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    DWT_CUDNN(cudnnSetConvolutionGroupCount(d.conv, as_int(p.c, "c")));
    // float32 stays float32 (no TF32), as our kernels compute; 16-bit types may use tensor cores.
    DWT_CUDNN(cudnnSetConvolutionMathType(
        d.conv, p.dtype == DType::f32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH));
    int on = 0, oc = 0, oh = 0, ow = 0;
    DWT_CUDNN(cudnnGetConvolution2dForwardOutputDim(d.conv, d.x, d.w, &on, &oc, &oh, &ow));
    if (on != p.n || oc != p.out_c() || oh != p.out_h() || ow != p.out_w())
      throw CudnnError(fmt::format("cuDNN output dims {}x{}x{}x{} differ from ours", on, oc, oh, ow));
    DWT_CUDNN(cudnnSetTensor4dDescriptor(d.y, fmt, dt, on, oc, oh, ow));
    if (p.bias) DWT_CUDNN(cudnnSetTensor4dDescriptor(d.b, fmt, dt, 1, oc, 1, 1));

    std::size_t free_b = 0, total_b = 0;
    DWT_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    DeviceBuffer ws(std::min<std::size_t>(std::size_t{1} << 30, free_b / 4));
    const ConvArgs a = buf.args();
    const float one = 1.0f, zero = 0.0f;
    // The fastest successful algorithm of a Find call's results that fits the workspace; its time
    // by Find goes to found_ms.
    float found_ms = 0;
    auto fastest = [&](const auto* perf, int found, const char* what) {
      const auto* best = static_cast<decltype(perf)>(nullptr);
      for (int i = 0; i < found; ++i)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= ws.bytes() &&
            (!best || perf[i].time < best->time))
          best = &perf[i];
      if (!best) throw CudnnError(fmt::format("no cuDNN {} algorithm supports this problem", what));
      found_ms = best->time;
      return best->algo;
    };
    std::function<void()> launch;
    switch (p.pass) {
      case Pass::forward: {
        cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        int found = 0;
        DWT_CUDNN(cudnnFindConvolutionForwardAlgorithmEx(h, d.x, a.x, d.w, a.w, d.conv, d.y, a.y,
                                                         CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &found, perf,
                                                         ws.get(), ws.bytes()));
        const cudnnConvolutionFwdAlgo_t algo = fastest(perf, found, "forward");
        r.algo = algo_name(algo);
        launch = [&, algo] {
          DWT_CUDNN(cudnnConvolutionForward(h, &one, d.x, a.x, d.w, a.w, d.conv, algo, ws.get(),
                                            ws.bytes(), &zero, d.y, a.y));
          if (p.bias) DWT_CUDNN(cudnnAddTensor(h, &one, d.b, a.bias, &one, d.y, a.y));
        };
        break;
      }
      case Pass::dgrad: {
        cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        int found = 0;
        DWT_CUDNN(cudnnFindConvolutionBackwardDataAlgorithmEx(
            h, d.w, a.w, d.y, a.dy, d.conv, d.x, a.dx, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &found, perf,
            ws.get(), ws.bytes()));
        const cudnnConvolutionBwdDataAlgo_t algo = fastest(perf, found, "backward-data");
        r.algo = fmt::format("bwd_data_algo_{}", static_cast<int>(algo));
        launch = [&, algo] {
          DWT_CUDNN(cudnnConvolutionBackwardData(h, &one, d.w, a.w, d.y, a.dy, d.conv, algo, ws.get(),
                                                 ws.bytes(), &zero, d.x, a.dx));
        };
        break;
      }
      case Pass::wgrad: {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
        int found = 0;
        DWT_CUDNN(cudnnFindConvolutionBackwardFilterAlgorithmEx(
            h, d.x, a.x, d.y, a.dy, d.conv, d.w, a.dw, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &found,
            perf, ws.get(), ws.bytes()));
        const cudnnConvolutionBwdFilterAlgo_t algo = fastest(perf, found, "backward-filter");
        r.algo = fmt::format("bwd_filter_algo_{}", static_cast<int>(algo));
        launch = [&, algo] {
          DWT_CUDNN(cudnnConvolutionBackwardFilter(h, &one, d.x, a.x, d.y, a.dy, d.conv, algo, ws.get(),
                                                   ws.bytes(), &zero, d.w, a.dw));
          if (p.bias) DWT_CUDNN(cudnnConvolutionBackwardBias(h, &one, d.y, a.dy, &zero, d.b, a.db));
        };
        break;
      }
    }
    buf.poison_output(st_);
    launch();
    DWT_CUDA_CHECK(cudaStreamSynchronize(st_));
    const VerifyResult v = verifier.compare_output();
    if (!v.ok)
      throw CudnnError(fmt::format("cuDNN's {} result failed verification: {}",
                                   p.pass == Pass::forward ? "forward" : to_string(p.pass), v.reason));
    // A slow baseline (cuDNN's GEMM paths take 10-60 ms on KernelBench in NHWC) needs fewer
    // repetitions for the same precision, and in full they were most of a sweep's time: one warm-up
    // (Find has run it already) and as many repetitions as fit in kBaselineMs, at least 5, at most
    // the usual count. The table records the count.
    constexpr double kBaselineMs = 200;
    TimerSettings tb = ts;
    if (found_ms > 0 && found_ms * (ts.warmup + ts.reps) > kBaselineMs) {
      tb.warmup = std::min(ts.warmup, 1);
      tb.reps = std::clamp(static_cast<int>(kBaselineMs / found_ms), std::min(5, ts.reps), ts.reps);
    }
    r.time = timer.time(launch, tb);
    r.available = true;
  } catch (const CudnnError& e) {
    r.available = false;
    r.reason = e.what();
  }
  return r;
}

#endif

}  // namespace dwt
