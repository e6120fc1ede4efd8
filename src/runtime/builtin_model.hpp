#pragma once
// The default model compiled into the binary (models/quicksrnet-small-x2.safetensors when the
// project ships it); empty when no trained model is shipped yet.
#include <span>

namespace quicksr {

std::span<const unsigned char> builtin_model_bytes();

}  // namespace quicksr
