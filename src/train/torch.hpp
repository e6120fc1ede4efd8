#pragma once
// The parts of LibTorch the trainer and its tests use (tensors and autograd, nn modules, Conv2d,
// functional padding, Adam, serialization archives, seeds, threads, the version), not all of
// <torch/torch.h>: the trainer's unity source compiles in 37 s of CPU instead of 46.
// torch/types.h comes first: functional/padding.h does not include what it uses.
// clang-format off
#include <torch/types.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/optim/adam.h>
#include <torch/serialize/archive.h>
#include <torch/utils.h>
#include <torch/version.h>
// clang-format on
