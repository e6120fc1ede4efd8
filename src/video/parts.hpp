#pragma once
// The finished parts of a video being upscaled, kept in a folder beside the output so that an
// interrupted run resumes: each part is the packet log (packet_log.hpp) of a fixed number of
// frames, encoded by an encoder of its own, renamed into place once complete. A manifest names
// the run (input, options, upscaler); a lock keeps two runs from writing one folder.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/file_lock.hpp"

namespace quicksr::video {

class PartStore {
 public:
  // Opens `folder` (creating it) for the run `manifest` describes, under a lock. Parts a run with
  // the same manifest finished are kept, from the first up to the first missing or damaged one;
  // later ones and unfinished temporary files are removed. Throws quicksr::Error when another
  // process holds the lock, when the folder holds finished parts of a run with another manifest
  // (the message names the first line that differs), or a file quicksr does not write there;
  // nothing is removed then. Only files of its own are ever removed.
  PartStore(std::filesystem::path folder, const std::string& manifest);
  // Removes the folder when it holds no finished part (a failed run leaves nothing behind), else
  // the unfinished part.
  ~PartStore();
  PartStore(const PartStore&) = delete;
  PartStore& operator=(const PartStore&) = delete;

  const std::filesystem::path& folder() const { return folder_; }
  int finished() const { return finished_; }  // parts [0, finished) are complete
  // Packets in the finished parts found on opening (encoders give one per frame).
  std::uint64_t kept_packets() const { return kept_packets_; }
  // Why parts found were dropped (a damaged part), or empty.
  const std::string& dropped() const { return dropped_; }

  std::filesystem::path part_path(int part) const;
  // Where part `part` (the next one: finished()) is written before finish_part.
  std::filesystem::path temp_path(int part) const;
  // Renames the written temporary file of part `part` into place.
  void finish_part(int part);
  // Removes the folder and everything in it (the output is complete).
  void remove();

 private:
  void check_manifest(const std::string& manifest);
  void scan_parts();

  std::filesystem::path folder_;
  std::optional<FileLock> lock_;  // held from opening until remove()
  int finished_ = 0;
  std::uint64_t kept_packets_ = 0;
  std::string dropped_;
};

}  // namespace quicksr::video
