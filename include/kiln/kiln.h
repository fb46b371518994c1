// Everything a program needs to build, train and run models with kiln, in
// one include, as Halide.h and torch/torch.h are: the graph builder and its
// ops, layers, losses and optimizers, Session, checkpoints, training loops,
// data and the data-parallel Communicator. Ahead-of-time host programs
// include only the header `kiln compile` writes. Each header may also be
// included on its own, as <kiln/FOLDER/NAME.h>.
#pragma once

#include <kiln/data/csv.h>
#include <kiln/data/dataset.h>
#include <kiln/data/npy.h>
#include <kiln/distributed/communicator.h>
#include <kiln/frontends/attention.h>
#include <kiln/frontends/losses.h>
#include <kiln/frontends/nn.h>
#include <kiln/frontends/normalization.h>
#include <kiln/frontends/optim.h>
#include <kiln/frontends/sampling.h>
#include <kiln/frontends/sequence.h>
#include <kiln/ir/serialize.h>
#include <kiln/ops/builder.h>
#include <kiln/passes/autodiff.h>
#include <kiln/session/checkpoint.h>
#include <kiln/session/session.h>
#include <kiln/session/trainer.h>
