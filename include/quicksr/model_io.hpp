#pragma once
// The model file format: safetensors (8-byte little-endian header length, JSON header, raw
// little-endian tensors). "__metadata__" holds the architecture and provenance.
#include <filesystem>
#include <string>

#include "quicksr/model.hpp"
#include "quicksr/output.hpp"

namespace quicksr {

// Validates header length, JSON, offsets (inside the file, no overlaps, no gaps), dtypes and every
// shape against the architecture; throws quicksr::Error naming the file and the problem.
Model load_model(const std::filesystem::path& path);
Model load_model_from_memory(const void* data, std::size_t size, const std::string& name);

// True for a name ending in .onnx (any case): what quicksr reads as ONNX; any other name is read
// as safetensors.
bool has_onnx_extension(const std::filesystem::path& path);

// Throws quicksr::Error naming `path` when a model file saved there would not load back: a name
// ending in .onnx is read as ONNX (export_onnx writes those). save_model checks it; long commands
// check it before their work too.
void check_model_file_name(const std::filesystem::path& path);

// Written atomically (temporary file + rename); `existing` says what happens to a file at `path`.
void save_model(const Model& model, const std::filesystem::path& path,
                ExistingFile existing = ExistingFile::kReplace);

}  // namespace quicksr
