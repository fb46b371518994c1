// The C API of runtime/aot_abi.h: instances of ahead-of-time compiled models.
#include "runtime/aot_abi.h"

#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/tensor.h"
#include "runtime/aot_model.h"
#include "runtime/checkpoint_file.h"
#include "runtime/executor.h"

#include <fmt/format.h>
#include <tbb/task_arena.h>

#include <cstring>
#include <new>
#include <optional>
#include <string>

using namespace kiln;

namespace {

thread_local std::string last_error;

// The caller's mistake, as opposed to a file's.
struct InvalidArgument : Error {
  using Error::Error;
};

template <typename... Args>
[[noreturn]] void invalid(fmt::format_string<Args...> format, Args &&...args) {
  throw InvalidArgument(fmt::format(format, std::forward<Args>(args)...));
}

template <typename T> void require(const T *p, const char *what) {
  if (!p) invalid("{} is null", what);
}

// Runs `body`, turning what it throws into a status and the thread's
// message; other kiln errors come from reading files (weights, checkpoints)
// or from a mismatched object.
template <typename F> int guarded(F &&body) {
  try {
    body();
    last_error.clear();
    return KILN_OK;
  } catch (const InvalidArgument &e) {
    last_error = e.what();
    return KILN_INVALID_ARGUMENT;
  } catch (const BadRunInput &e) {
    last_error = e.what();
    return KILN_INVALID_ARGUMENT;
  } catch (const Error &e) {
    last_error = e.what();
    return KILN_BAD_FILE;
  } catch (const std::bad_alloc &) {
    last_error = "out of memory";
    return KILN_OUT_OF_MEMORY;
  } catch (const std::exception &e) {
    last_error = e.what();
    return KILN_INTERNAL;
  }
}

} // namespace

struct kiln_aot_instance {
  const kiln_aot_model *abi = nullptr;
  aot::Model model;
  std::optional<std::string> weights_path; // none: embedded
  std::vector<Tensor> variables;
  Tensor arena;
  std::vector<BoundPlan> entries; // bound to the arena, variables and constants
  tbb::task_arena threads;
  bool flush_denormals = true;
  PlanCollectives *collectives = nullptr; // in a data-parallel job
  std::vector<bool> checked;              // by entry: its collectives against the other ranks'

  explicit kiln_aot_instance(int n) : threads(n > 0 ? n : tbb::task_arena::automatic) {}

  std::string origin() const { return fmt::format("model '{}'", model.name); }

  // Values for every variable from a checkpoint's bytes, all checked first.
  std::vector<Tensor> decode_weights(std::string_view bytes, const std::string &origin) const {
    return decode_checkpoint(model.variables, bytes, origin);
  }

  void set_weights(std::vector<Tensor> values) {
    for (size_t i = 0; i < values.size(); ++i)
      std::memcpy(variables[i].raw(), values[i].raw(), values[i].bytes());
  }

  void load_initial_weights() {
    if (weights_path) {
      set_weights(
          decode_weights(read_file(*weights_path), fmt::format("checkpoint '{}'", *weights_path)));
      return;
    }
    if (!abi->weights)
      invalid("{} has no embedded weights: give the path of its .weights file", origin());
    set_weights(decode_weights(
        std::string_view(reinterpret_cast<const char *>(abi->weights), abi->weights_bytes),
        fmt::format("checkpoint embedded in {}", origin())));
  }

  void bind_entries() {
    PlanStorage storage{
        .arena = static_cast<std::byte *>(arena.raw()),
        .variable = [&](int64_t i) { return variables[size_t(i)].raw(); },
        .constant = [&](int64_t offset) { return abi->constants + offset; },
        .functions = std::span(abi->kernels, abi->num_kernels),
        .describe_own = nullptr, // "buffer N": an object names no nodes
    };
    for (const Plan &e : model.entries) entries.emplace_back(e, storage);
  }

  void run(int index, const void *const *inputs, void *const *outputs) {
    if (index < 0 || size_t(index) >= entries.size())
      invalid("{} has entry points 0 to {}, not {}", origin(), entries.size() - 1, index);
    BoundPlan &b = entries[size_t(index)];
    const Plan &e = b.plan();
    if (!e.inputs.empty()) require(inputs, "the inputs array");
    if (!e.outputs.empty()) require(outputs, "the outputs array");
    for (size_t i = 0; i < e.inputs.size(); ++i)
      if (!inputs[i]) invalid("{} {}: input '{}' is null", origin(), e.name, e.inputs[i].name);
    for (size_t o = 0; o < e.outputs.size(); ++o)
      if (!outputs[o]) invalid("{} {}: output '{}' is null", origin(), e.name, e.outputs[o].name);
    if (collectives && !checked[size_t(index)] && has_collectives(e)) {
      collectives->check_same_schedule(e);
      checked[size_t(index)] = true;
    }
    threads.execute(
        [&] { b.run(inputs, {.flush_denormals = flush_denormals, .collectives = collectives}); });
    for (size_t o = 0; o < e.outputs.size(); ++o)
      std::memcpy(outputs[o], b.output(o, inputs), e.outputs[o].bytes());
  }

  size_t variable_index(const char *name, size_t bytes) const {
    require(name, "the variable name");
    for (size_t i = 0; i < model.variables.size(); ++i) {
      if (model.variables[i].name != name) continue;
      if (bytes != variables[i].bytes())
        invalid("{}: variable '{}' holds {} bytes ({}), not {}", origin(), name,
                variables[i].bytes(), variables[i].summary(), bytes);
      return i;
    }
    invalid("{} has no variable named '{}'", origin(), name);
  }
};

extern "C" {

const char *kiln_last_error(void) { return last_error.c_str(); }

int kiln_aot_create(const kiln_aot_model *model, const char *weights_path, int threads,
                    kiln_aot_instance **out) {
  return guarded([&] {
    require(out, "the instance pointer");
    *out = nullptr;
    require(model, "the model");
    if (threads < 0) invalid("threads is {}: give 0 for all cores, or a count", threads);
    if (model->abi_version != KILN_AOT_ABI_VERSION)
      fail("the model was compiled for runtime interface {}, this runtime has {}: recompile it "
           "with this kiln",
           model->abi_version, KILN_AOT_ABI_VERSION);
    auto instance = std::make_unique<kiln_aot_instance>(threads);
    instance->abi = model;
    instance->model =
        aot::decode(std::string_view(reinterpret_cast<const char *>(model->description),
                                     model->description_bytes),
                    model->num_kernels, model->constants_bytes);
    if (weights_path) instance->weights_path = weights_path;
    for (const TensorSpec &v : instance->model.variables)
      instance->variables.emplace_back(v.dtype, v.shape);
    uint64_t arena = 0;
    for (const Plan &e : instance->model.entries) arena = std::max(arena, e.arena_bytes);
    instance->arena = Tensor(DType::boolean, {int64_t(arena)});
    instance->bind_entries();
    instance->load_initial_weights();
    *out = instance.release();
  });
}

void kiln_aot_destroy(kiln_aot_instance *instance) { delete instance; }

int kiln_aot_run(kiln_aot_instance *instance, int entry, const void *const *inputs,
                 void *const *outputs) {
  return guarded([&] {
    require(instance, "the instance");
    instance->run(entry, inputs, outputs);
  });
}

int kiln_aot_flush_denormals(kiln_aot_instance *instance, int flush) {
  return guarded([&] {
    require(instance, "the instance");
    instance->flush_denormals = flush != 0;
  });
}

int kiln_aot_set_collectives(kiln_aot_instance *instance, void *collectives) {
  return guarded([&] {
    require(instance, "the instance");
    instance->collectives = static_cast<PlanCollectives *>(collectives);
    instance->checked.assign(instance->entries.size(), false);
  });
}

int kiln_aot_init(kiln_aot_instance *instance) {
  return guarded([&] {
    require(instance, "the instance");
    instance->load_initial_weights();
  });
}

int kiln_aot_get_variable(const kiln_aot_instance *instance, const char *name, void *data,
                          size_t bytes) {
  return guarded([&] {
    require(instance, "the instance");
    require(data, "the data pointer");
    std::memcpy(data, instance->variables[instance->variable_index(name, bytes)].raw(), bytes);
  });
}

int kiln_aot_set_variable(kiln_aot_instance *instance, const char *name, const void *data,
                          size_t bytes) {
  return guarded([&] {
    require(instance, "the instance");
    require(data, "the data pointer");
    std::memcpy(instance->variables[instance->variable_index(name, bytes)].raw(), data, bytes);
  });
}

int kiln_aot_save_checkpoint(const kiln_aot_instance *instance, const char *path) {
  return guarded([&] {
    require(instance, "the instance");
    require(path, "the checkpoint path");
    std::string origin = fmt::format("checkpoint '{}'", path);
    std::string bytes = encode_checkpoint(
        instance->model.variables, [&](size_t i) { return instance->variables[i]; }, origin);
    try {
      write_file_atomically(path, bytes);
    } catch (const Error &e) {
      fail("{}: {}", origin, e.what());
    }
  });
}

int kiln_aot_load_checkpoint(kiln_aot_instance *instance, const char *path) {
  return guarded([&] {
    require(instance, "the instance");
    require(path, "the checkpoint path");
    instance->set_weights(
        instance->decode_weights(read_file(path), fmt::format("checkpoint '{}'", path)));
  });
}

} // extern "C"
