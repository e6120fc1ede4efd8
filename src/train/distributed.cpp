#include "train/distributed.hpp"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "quicksr/error.hpp"

namespace quicksr::train {
namespace {

c10::intrusive_ptr<c10d::Store> make_store(int world_size, int rank,
                                           const std::string& rendezvous) {
  if (rendezvous.starts_with("file:")) {
    return c10::make_intrusive<c10d::FileStore>(rendezvous.substr(5), world_size);
  }
  const std::string address = rendezvous.substr(4);  // after "tcp:"
  const auto colon = address.rfind(':');
  int port = 0;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(address.substr(colon + 1));
    } catch (const std::exception&) {
      port = 0;
    }
  }
  if (colon == std::string::npos || port <= 0 || port > 65535) {
    throw Error("--rendezvous " + rendezvous + ": expected tcp:HOST:PORT with a port in 1..65535");
  }
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.isServer = rank == 0;
  options.numWorkers = world_size;
  return c10::make_intrusive<c10d::TCPStore>(address.substr(0, colon), options);
}

}  // namespace

GradientAverager::GradientAverager(int world_size, int rank, const std::string& rendezvous)
    : world_size_(world_size) {
  if (world_size == 1) return;
  try {
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(make_store(world_size, rank, rendezvous),
                                                         rank, world_size, options);
  } catch (const c10::Error& e) {
    throw Error("--rendezvous " + rendezvous +
                ": cannot join the process group: " + e.what_without_backtrace());
  }
}

GradientAverager::~GradientAverager() = default;

bool GradientAverager::average(const std::vector<torch::Tensor>& parameters, torch::Tensor& loss,
                               bool stop) {
  if (world_size_ == 1) return stop;
  // One all-reduce of everything flattened (the stop flag too): far fewer round trips than one
  // per tensor.
  std::vector<torch::Tensor> pieces{loss.detach().reshape({1}),
                                    torch::full({1}, stop ? 1.0f : 0.0f, loss.options())};
  for (const auto& p : parameters) pieces.push_back(p.grad().reshape({-1}));
  std::vector<torch::Tensor> buffer{torch::cat(pieces)};
  group_->allreduce(buffer)->wait();
  buffer[0].div_(world_size_);
  loss = buffer[0][0];
  const bool any_stop = buffer[0][1].item<float>() > 0;
  std::int64_t offset = 2;
  for (const auto& p : parameters) {
    const std::int64_t count = p.grad().numel();
    p.grad().copy_(buffer[0].slice(0, offset, offset + count).view(p.grad().sizes()));
    offset += count;
  }
  return any_stop;
}

}  // namespace quicksr::train
