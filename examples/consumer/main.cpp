// Uses dwtune as a library: one depthwise convolution through dwt::conv2d, the choice explained,
// the result checked on the CPU.
//   consumer [TABLE]   exit 0 ok, 1 wrong result or CUDA failure, 3 no CUDA device
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <exception>
#include <vector>

#include <dwtune/dispatch.hpp>

namespace {

// Fails loudly on any CUDA error: this example has no error handling beyond reporting and stopping.
void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    std::fprintf(stderr, "consumer: %s failed: %s\n", what, cudaGetErrorString(err));
    std::exit(1);
  }
}

float* device_copy(const std::vector<float>& v) {
  void* p = nullptr;
  check(cudaMalloc(&p, v.size() * sizeof(float)), "cudaMalloc");
  check(cudaMemcpy(p, v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
  return static_cast<float*>(p);
}

}  // namespace

int main(int argc, char** argv) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
    std::fprintf(stderr, "consumer: no CUDA device\n");
    return 3;
  }
  try {
    if (argc > 1) dwt::load_tuning_table(argv[1]);

    // KernelBench 85's filter on a small image: 3x7, stride 1, no padding, with bias.
    dwt::ConvShape s;
    s.n = 2, s.c = 4, s.h = 20, s.w = 37;
    s.kh = 3, s.kw = 7;
    s.bias = true;
    const dwt::Choice choice = dwt::choose(s, 0);
    std::printf("kernel: %s\nwhy: %s\n", choice.op ? choice.op->desc().name.c_str() : "(none)",
                choice.reason.c_str());

    std::vector<float> x(s.input_elems()), w(s.weight_elems()), b(s.out_c()), y(s.output_elems());
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 101) / 101.0f - 0.5f;
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>((i * 13) % 17) / 17.0f - 0.5f;
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = 0.25f * static_cast<float>(i);

    float* dx = device_copy(x);
    float* dw = device_copy(w);
    float* db = device_copy(b);
    float* dy = device_copy(y);
    dwt::conv2d(s, dx, dw, db, dy, /*stream=*/nullptr);
    check(cudaMemcpy(y.data(), dy, y.size() * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy");
    for (float* p : {dx, dw, db, dy}) check(cudaFree(p), "cudaFree");

    const std::int64_t OH = s.out_h(), OW = s.out_w();
    double max_err = 0;
    for (std::int64_t n = 0; n < s.n; ++n)
      for (std::int64_t c = 0; c < s.c; ++c)
        for (std::int64_t oh = 0; oh < OH; ++oh)
          for (std::int64_t ow = 0; ow < OW; ++ow) {
            double acc = b[c];
            for (int i = 0; i < s.kh; ++i)
              for (int j = 0; j < s.kw; ++j)
                acc += double(x[((n * s.c + c) * s.h + oh + i) * s.w + ow + j]) * w[(c * s.kh + i) * s.kw + j];
            max_err = std::max(max_err, std::abs(acc - y[((n * s.c + c) * OH + oh) * OW + ow]));
          }
    std::printf("max abs error vs CPU: %.3g\n", max_err);
    if (!(max_err < 1e-4)) {
      std::fprintf(stderr, "consumer: wrong result\n");
      return 1;
    }
    std::printf("ok\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
