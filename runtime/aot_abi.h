/* The C interface between an ahead-of-time compiled model and the runtime it
 * links (kiln_runtime). `kiln compile` writes NAME.o, whose only global
 * symbol is a struct kiln_aot_model, and NAME.h, typed wrappers over the
 * functions below. Each instance owns its variables and buffers, so threads
 * may run different instances at once without locks; one instance is used
 * by one thread at a time, and runs its kernels on its own oneTBB arena.
 *
 * Every function returns KILN_OK or an error code; kiln_last_error() then
 * gives the message, for the calling thread. */
#pragma once

#include "kernels/kernel_abi.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: kernel calls may be collective steps (data-parallel train steps).
 * 3: kernel calls may check indices (gather, one_hot) and say what they write.
 * 4: small matmuls split into narrower tiles (kiln_matmul_tile_n): the task
 *    counts an object holds are the kernel library's. */
#define KILN_AOT_ABI_VERSION 4

/* Laid out by compiler/aot.cpp: change both together, and the version. */
struct kiln_aot_model {
  uint32_t abi_version;
  uint32_t num_kernels;
  const kiln_kernel_fn *kernels;
  const unsigned char *description; /* runtime/aot_model.h's encoding */
  uint64_t description_bytes;
  const unsigned char *constants; /* 64-byte aligned */
  uint64_t constants_bytes;
  const unsigned char *weights; /* a kiln checkpoint; null when shipped beside */
  uint64_t weights_bytes;
};

enum kiln_status {
  KILN_OK = 0,
  KILN_INVALID_ARGUMENT = 1, /* a null pointer, a wrong size, an unknown name, a bad index */
  KILN_BAD_FILE = 2,         /* a checkpoint that cannot be read or does not fit the model */
  KILN_OUT_OF_MEMORY = 3,
  KILN_INTERNAL = 4,
};

typedef struct kiln_aot_instance kiln_aot_instance;

/* The message of the calling thread's last failed call ("" if none). */
const char *kiln_last_error(void);

/* A new instance with its variables set from `weights_path` (a checkpoint),
 * or from the weights embedded in the model when it is null. `threads`: 0
 * for all cores. */
int kiln_aot_create(const struct kiln_aot_model *model, const char *weights_path, int threads,
                    kiln_aot_instance **out);
void kiln_aot_destroy(kiln_aot_instance *instance);

/* Runs entry point `entry` (NAME.h numbers them): `inputs` and `outputs`
 * point at arrays of the sizes NAME.h gives, in its order. */
int kiln_aot_run(kiln_aot_instance *instance, int entry, const void *const *inputs,
                 void *const *outputs);

/* Whether runs flush denormal floats to zero: 1, the default, or 0 to keep
 * them. Either way the kernels run under a fixed floating-point state and
 * the caller's own is restored after each run. */
int kiln_aot_flush_denormals(kiln_aot_instance *instance, int flush);

/* Joins a data-parallel job: entries compiled with `kiln compile
 * --data-parallel` average their gradients through `collectives`, a
 * kiln::PlanCollectives * (a kiln::CommunicatorCollectives over the job's
 * Communicator: distributed/plan_collectives.h) that must outlive the
 * instance; null leaves the job (a job of one). Every rank runs the same
 * entries in the same order; an entry's first run checks that every rank
 * compiled the same collective schedule. */
int kiln_aot_set_collectives(kiln_aot_instance *instance, void *collectives);

/* Every variable back to the weights the instance was created with. */
int kiln_aot_init(kiln_aot_instance *instance);

/* A variable's value, copied out or in; `bytes` must be its size. */
int kiln_aot_get_variable(const kiln_aot_instance *instance, const char *name, void *data,
                          size_t bytes);
int kiln_aot_set_variable(kiln_aot_instance *instance, const char *name, const void *data,
                          size_t bytes);

/* Checkpoints in kiln's format, interchangeable with a Session's (written
 * atomically; a load checks the whole file before changing anything). */
int kiln_aot_save_checkpoint(const kiln_aot_instance *instance, const char *path);
int kiln_aot_load_checkpoint(kiln_aot_instance *instance, const char *path);

#ifdef __cplusplus
}
#endif
