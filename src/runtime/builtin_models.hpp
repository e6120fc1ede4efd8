#pragma once
// The models compiled into the binary: every models/quicksrnet-small-x*.safetensors the project
// ships, so that a user needs no model file for the Small preset at any shipped scale.
#include <span>

namespace quicksr {

struct EmbeddedFile {
  const char* name;
  std::span<const unsigned char> bytes;
};

std::span<const EmbeddedFile> builtin_model_files();

}  // namespace quicksr
