#include "cli/adaround_resume.hpp"

#include <charconv>

#include "quicksr/error.hpp"
#include "quicksr/model_io.hpp"

namespace quicksr::cli {
namespace {

constexpr char kKey[] = "adaround_resume";
constexpr char kConvsDone[] = "adaround_convs_done";

// Whether `a` and `b` were calibrated alike: the same shapes, weight scales and encodings.
bool same_grid(const QuantizedQuickSRNet& a, const QuantizedQuickSRNet& b) {
  const auto same_conv = [](const QConv2d& x, const QConv2d& y) {
    return x.out_channels == y.out_channels && x.in_channels == y.in_channels &&
           x.weight.size() == y.weight.size() && x.weight_scale == y.weight_scale;
  };
  if (!(a.config == b.config) || a.body.size() != b.body.size() ||
      a.anchor.size() != b.anchor.size() || !(a.input == b.input) || a.features != b.features ||
      !(a.output == b.output) || !same_conv(a.first, b.first) || !same_conv(a.last, b.last)) {
    return false;
  }
  for (std::size_t i = 0; i < a.body.size(); ++i) {
    if (!same_conv(a.body[i], b.body[i])) return false;
  }
  for (std::size_t i = 0; i < a.anchor.size(); ++i) {
    if (!same_conv(a.anchor[i], b.anchor[i])) return false;
  }
  return true;
}

}  // namespace

AdaRoundResume::AdaRoundResume(const std::filesystem::path& out, std::string key)
    : path_(out.string() + ".quicksr-adaround"), key_(std::move(key)) {}

std::optional<std::pair<int, QuantizedQuickSRNet>> AdaRoundResume::load(
    const QuantizedQuickSRNet& ptq) const {
  std::error_code error;
  if (!std::filesystem::exists(path_, error)) return std::nullopt;
  Model model = load_model(path_);
  const auto key = model.provenance.find(kKey);
  const auto done = model.provenance.find(kConvsDone);
  if (key == model.provenance.end() || key->second != key_) {
    throw Error(path_.string() +
                ": holds an unfinished AdaRound of another command, model or calibration "
                "images: run that command to finish it, or delete the file");
  }
  int convs = -1;
  const std::string& text = done == model.provenance.end() ? "" : done->second;
  std::from_chars(text.data(), text.data() + text.size(), convs);
  const auto* net = std::get_if<QuantizedQuickSRNet>(&model.net);
  if (!net || convs < 1 || convs > ptq.config.blocks + 1 || !same_grid(*net, ptq)) {
    throw Error(
        path_.string() +
        ": does not fit this command's calibration (edited or damaged?); delete it to start again");
  }
  return std::pair{convs, *net};
}

void AdaRoundResume::save(int convs_done, const QuantizedQuickSRNet& net) const {
  Model model;
  model.net = net;
  model.provenance[kKey] = key_;
  model.provenance[kConvsDone] = std::to_string(convs_done);
  save_model(model, path_, ExistingFile::kReplace);
}

void AdaRoundResume::remove() const {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace quicksr::cli
