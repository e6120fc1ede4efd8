#include "train/checkpoint.hpp"

#include "common/atomic_file.hpp"
#include "quicksr/error.hpp"

namespace quicksr::train {

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& net,
                     torch::optim::Adam& optimizer, const Progress& progress,
                     const std::string& identity) {
  torch::serialize::OutputArchive archive, model, adam;
  net.save(model);
  optimizer.save(adam);
  archive.write("model", model);
  archive.write("adam", adam);
  archive.write("identity", c10::IValue(identity));
  archive.write("iteration", c10::IValue(progress.iteration));
  archive.write("best_psnr", c10::IValue(progress.best_psnr));
  archive.write("best_iteration", c10::IValue(progress.best_iteration));
  write_atomically(
      path,
      [&](const std::filesystem::path& temp) {
        try {
          archive.save_to(temp.string());
        } catch (const c10::Error& e) {  // a full disk, say
          throw Error(path.string() +
                      ": cannot write the checkpoint: " + e.what_without_backtrace());
        }
        sync_to_disk(temp);  // on disk before it replaces the last good checkpoint
      },
      ExistingFile::kReplace);
  sync_to_disk(path);  // and its name
}

Progress load_checkpoint(const std::filesystem::path& path, torch::nn::Module& net,
                         torch::optim::Adam& optimizer, const std::string& identity) {
  torch::serialize::InputArchive archive, model, adam;
  c10::IValue saved_identity, iteration, best_psnr, best_iteration;
  try {
    archive.load_from(path.string());
    archive.read("identity", saved_identity);
    if (saved_identity.toStringRef() != identity) {
      throw Error(path.string() + ": the checkpoint trains " + saved_identity.toStringRef() +
                  ", but this run is " + identity + " (use another --out folder)");
    }
    archive.read("model", model);
    archive.read("adam", adam);
    archive.read("iteration", iteration);
    archive.read("best_psnr", best_psnr);
    archive.read("best_iteration", best_iteration);
    net.load(model);
    optimizer.load(adam);
  } catch (const c10::Error& e) {
    throw Error(path.string() + ": unreadable checkpoint: " + e.what_without_backtrace());
  }
  return Progress{iteration.toInt(), best_psnr.toDouble(), best_iteration.toInt()};
}

}  // namespace quicksr::train
