#pragma once
// Files the tests read: the shipped models in the source tree and the data sets in ../shared.
#include <filesystem>

namespace quicksr::test_support {

inline const std::filesystem::path kSmallX2 =
    std::filesystem::path(QUICKSR_SOURCE_DIR) / "models" / "quicksrnet-small-x2.safetensors";
// Its INT8 model (optimised rounding, per channel).
inline const std::filesystem::path kSmallX2Int8 =
    std::filesystem::path(QUICKSR_SOURCE_DIR) / "models" / "quicksrnet-small-x2-int8.safetensors";
inline const std::filesystem::path kSet5 =
    std::filesystem::path(QUICKSR_SHARED_DIR) / "data" / "benchmarks" / "Set5" / "HR";
inline const std::filesystem::path kTrain =
    std::filesystem::path(QUICKSR_SHARED_DIR) / "data" / "train" / "BSDS200";
// The official ONNX files (QuickSRNet, XLSR, SESR-M5) of ../shared/models.
inline const std::filesystem::path kReferenceModels =
    std::filesystem::path(QUICKSR_SHARED_DIR) / "models" / "reference";

}  // namespace quicksr::test_support
