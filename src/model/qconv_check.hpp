#pragma once
// The checks of one INT8 conv and one activation encoding, shared by the model checkers of the
// INT8 QuickSRNet and of INT8 graphs (docs/quantization.md).
#include <string>

#include "quicksr/model.hpp"

namespace quicksr {

// Positive finite scale, zero point in [0, 255]; throws "<model> encoding '<name>' ...".
void check_encoding(const ActivationEncoding& encoding, const std::string& model,
                    const std::string& name);
// Geometry (groups too) against `expected`, sizes, weights in [-127, 127], positive finite scales,
// finite requantisation multipliers and the int32 accumulator bound; throws "<where> ...".
void check_qconv(const QConv2d& conv, const Conv2d& expected, const std::string& where,
                 const ActivationEncoding& input, const ActivationEncoding& output);

}  // namespace quicksr
