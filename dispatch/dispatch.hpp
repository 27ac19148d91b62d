// The dispatch library: run a depthwise convolution with the kernel a tuning table chose for this
// GPU, or, where no table has the shape, the kernel a cost model learned from measurements predicts
// fastest, or a fixed default rule where nothing is known.
//
// How a kernel is chosen for shape s on a device (choose_kernel holds the rules; choose applies them
// to the user's table, the tables built into the library, the built-in model and a real device):
//   1. exact    the user's table (DWTUNE_TABLE, load_tuning_table) has an entry with s's
//               Problem::key() (names are ignored) that passed, and its winner is compiled in and
//               supports s on this device; then the same in the shipped tables: those measured in
//               results/<gpu>/ and built into the library (shipped_table), of this GPU model;
//   2. model    otherwise, of the compiled kernels that support s on this device, the one the cost
//               model (cost_model.hpp, fitted on the --keep-all tables of results/) predicts
//               fastest relative to the best; kernels no sample timed are taken at the model's
//               prior; on equal predictions the default order below decides. Skipped when no
//               supporting kernel was ever timed;
//   3. nearest  otherwise, of the passed entries of the user's table (then of the shipped one) with
//               the same filter size, stride, dilation, dtype and layout, the nearest one (see
//               below), provided its winner supports s on this device — only that one entry is
//               tried, never the next nearest;
//   4. default  otherwise the first compiled kernel that supports s in the order families declare
//               (KernelDesc::rank, see kernels/family.cuh): kernels compiled for s's filter size
//               before run-time-size ones; then families by preference (staged, band, vectorized,
//               regblock, naive; smem is never a default); within a family the declared default
//               tile first (regblock: 4x4 outputs per thread, 32x4 threads), then registry order.
// Nearest: the smallest |ln(outputs of s / outputs of the entry)|, then the smallest
// |ln(channels ratio)|, then |ln(output width ratio)|, then the fewest differences in padding,
// multiplier and bias, then the earliest entry in the table.
// A table whose meta.gpu_name differs from the device's name (cudaDeviceProp::name) is not used on
// that device: a warning goes to stderr once per device and the other sources apply.
// Baseline: where the entry a table rule took (exact or nearest) records a framework's median beside
// the winner's and it was smaller, the choice says so (Choice::baseline_faster, and the reason ends
// with "baseline faster: PyTorch 0.0097 ms vs 0.0148 ms on entry ..."). The framework's median is
// PyTorch's where the table has it (scripts/pytorch_baseline.py --merge: F.conv2d timed in the
// entry's layout and pass), else cuDNN's from the tuner's run (TunedEntry::framework_ms): where
// PyTorch was timed, its time alone decides, since cuDNN as the tuner calls it is not what F.conv2d
// runs. dwt::conv2d still runs the kernel; a caller that has the baseline at hand (the PyTorch
// extension calls F.conv2d) may run that instead. For a nearest entry the comparison was made on
// that entry's shape, not on s.
// Of a table, dispatch reads only the GPU name and each entry's key, ok, winner kernel, the
// winner's, cuDNN's and PyTorch's median times (tuning_table.hpp); other fields are ignored.
#pragma once

#include <cuda_runtime_api.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cost_model.hpp"
#include "operation.hpp"
#include "problem.hpp"
#include "tuning_table.hpp"

namespace dwt {

// The kernel chosen for a shape, and why: "exact: tuned entry kb85 ...", "exact: shipped entry ...",
// "model: ...", "nearest: ...", "default: ...". op is null only when no compiled kernel can serve the shape (reason says why).
struct Choice {
  const Operation* op = nullptr;
  std::string reason;
  // The table entry behind an exact or nearest choice measured the framework (PyTorch, else cuDNN:
  // TunedEntry::framework_ms) faster than its winner; false for default choices and where neither
  // was measured.
  bool baseline_faster = false;
};

// Runs y = depthwise_conv2d(x, w, bias) for shape s on device pointers, on `stream`, on the current
// device. x is [N, C, H, W], w is [C*M, 1, KH, KW], bias is [C*M] and must be non-null exactly when
// s.bias; y is [N, C*M, OH, OW]; all contiguous, of dtype s.dtype. Throws ProblemError for an
// invalid shape, std::invalid_argument for bad pointers, std::runtime_error when no kernel serves
// the shape, CudaError for CUDA failures. Safe to call from several threads.
void conv2d(const ConvShape& s, const void* x, const void* w, const void* bias, void* y,
            cudaStream_t stream);

// The gradients, with the kernels dispatch chooses for s with pass dgrad / wgrad (s.pass is
// ignored). dx = input gradient [N, C, H, W] from dy [N, C*M, OH, OW] and w (s.bias is ignored);
// dw [C*M, 1, KH, KW] and, exactly when s.bias, db [C*M] from x and dy. Layouts as for conv2d. A
// kernel that needs a workspace gets it from cudaMallocAsync on `stream`. Errors as conv2d.
void conv2d_dgrad(const ConvShape& s, const void* dy, const void* w, void* dx, cudaStream_t stream);
void conv2d_wgrad(const ConvShape& s, const void* x, const void* dy, void* dw, void* db,
                  cudaStream_t stream);

// The kernel conv2d (conv2d_dgrad, conv2d_wgrad: by s.pass) would run for s on `device`, and why. Choices are cached per device and shape
// until the next load_tuning_table / unload_tuning_table.
Choice choose(const ConvShape& s, int device);

// choose's kernel and baseline flag without the reason, for per-call paths (the PyTorch extension):
// a shape seen before costs a hash lookup (the thread's previous shape, a comparison), with no
// allocation and no string built. op is null where choose's is.
struct QuickChoice {
  const Operation* op = nullptr;
  bool baseline_faster = false;
};
QuickChoice choose_quick(const ConvShape& s, int device);

// Reads a tuning table and makes it the one conv2d uses (replacing any earlier one). Throws
// TableError naming the file and field when it cannot be read; the previous table then stays.
// Thread-safe. Warns on stderr at once if the table is from another GPU model than the current
// device.
void load_tuning_table(const std::filesystem::path& path);
// Back to the default rules.
void unload_tuning_table();
// The table in use, or null. The first call of this, choose or conv2d reads the file named by the
// environment variable DWTUNE_TABLE, unless load_tuning_table came first; a table that cannot be read
// from there gives a warning on stderr and the default rules (the variable is read only once).
std::shared_ptr<const TuningTable> tuning_table();

// The tables built into the library of GPU model `gpu_name` (results/<gpu>/*table*.json at build
// time), merged: of one key in two tables the faster entry. Null when none is of that model.
std::shared_ptr<const TuningTable> shipped_table(std::string_view gpu_name);
// The files the shipped tables came from, with their GPU and entry count, for messages.
std::vector<std::string> shipped_table_sources();

// What choose_kernel may draw on; any of them may be null.
struct Knowledge {
  const TuningTable* table = nullptr;    // the user's
  const TuningTable* shipped = nullptr;  // built in (shipped_table)
  const DispatchModel* model = nullptr;  // learned (builtin_model)
  // Entries and model samples of this Problem::key() play no part: what dispatch would choose for
  // a shape it has not seen (check-dispatch). Empty: none excluded.
  std::string_view exclude_key;
};

// The rules on their own, without a GPU: `gpu_name` and `lim` describe the device; `ops` is the
// set to choose from (the registry in the library).
Choice choose_kernel(const ConvShape& s, const Knowledge& k, std::string_view gpu_name,
                     const DeviceLimits& lim, const std::vector<const Operation*>& ops);
// With the user's `table` only (may be null): exact, nearest, default.
Choice choose_kernel(const ConvShape& s, const TuningTable* table, std::string_view gpu_name,
                     const DeviceLimits& lim, const std::vector<const Operation*>& ops);
Choice choose_kernel(const ConvShape& s, const TuningTable* table, std::string_view gpu_name,
                     const DeviceLimits& lim);

}  // namespace dwt
