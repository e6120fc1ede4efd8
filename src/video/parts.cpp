#include "video/parts.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/atomic_file.hpp"
#include "quicksr/error.hpp"
#include "video/packet_log.hpp"

namespace quicksr::video {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxManifestBytes = 1 << 16;

std::string part_name(int part) {
  char name[32];
  std::snprintf(name, sizeof name, "part-%06d.packets", part);
  return name;
}

// The manifest's text, empty when there is none; at most kMaxManifestBytes are read.
std::string read_manifest(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(kMaxManifestBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

// The files a PartStore writes in its folder: the lock, the manifest (and its temporary file) and
// the parts (and the one being written). Anything else was put there by someone else.
bool is_ours(const fs::path& entry) {
  const std::string name = entry.filename().string();
  return name == "lock" || name == "manifest" ||
         (name.starts_with(".quicksr-") && name.ends_with(".tmp")) ||
         (name.starts_with("part-") &&
          (name.ends_with(".packets") || name.ends_with(".packets.tmp")));
}

// Removes the files of ours in `folder`, then the folder if it is empty.
void remove_ours(const fs::path& folder) {
  std::error_code ignored;
  std::vector<fs::path> ours;
  for (fs::directory_iterator it(folder, ignored), end; !ignored && it != end;
       it.increment(ignored)) {
    if (is_ours(it->path())) ours.push_back(it->path());
  }
  for (const fs::path& path : ours) fs::remove(path, ignored);
  fs::remove(folder, ignored);
}

// The first line of `found` that differs from `wanted`'s, or its last if one ends first.
std::string first_difference(const std::string& wanted, const std::string& found) {
  std::istringstream a(wanted), b(found);
  std::string line_a, line_b;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(a, line_a));
    const bool more_b = static_cast<bool>(std::getline(b, line_b));
    if (!more_a || !more_b || line_a != line_b) return more_b ? line_b : line_a;
  }
}

}  // namespace

PartStore::PartStore(fs::path folder, const std::string& manifest) : folder_(std::move(folder)) {
  std::error_code error;
  fs::create_directory(folder_, error);
  if (error) throw Error(folder_.string() + ": cannot create: " + error.message());
  for (const auto& entry : fs::directory_iterator(folder_)) {
    if (!is_ours(entry.path())) {
      throw Error(folder_.string() + ": holds " + entry.path().filename().string() +
                  ", which quicksr did not write there; move the folder away");
    }
  }
  lock_.emplace(folder_ / "lock", folder_.string() + ": another quicksr is writing this video");
  check_manifest(manifest);  // on a throw, lock_ goes with the other members
}

PartStore::~PartStore() {
  if (!lock_) return;  // removed already
  if (finished_ == 0) {
    remove_ours(folder_);
  } else {
    std::error_code ignored;
    fs::remove(temp_path(finished_), ignored);  // the part a stopped run was writing
  }
}

void PartStore::check_manifest(const std::string& manifest) {
  const fs::path path = folder_ / "manifest";
  const std::string found = read_manifest(path);
  if (found == manifest) {
    scan_parts();
    if (finished_ > 0) return;
  } else if (fs::exists(folder_ / part_name(0))) {
    if (found.empty()) {
      throw Error(folder_.string() + ": holds parts but no manifest naming their run: delete it");
    }
    throw Error(folder_.string() + ": holds parts of another unfinished run (its '" +
                first_difference(manifest, found) +
                "' differs): finish that run with its command, or delete the folder");
  }
  for (const auto& entry : fs::directory_iterator(folder_)) {
    if (entry.path().filename() != "lock") fs::remove(entry.path());
  }
  write_bytes_atomically(path, manifest, ExistingFile::kKeep);
  sync_to_disk(path);
}

void PartStore::scan_parts() {
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(folder_)) {
    if (entry.path().extension() == ".tmp") stale.push_back(entry.path());
  }
  for (const fs::path& path : stale) fs::remove(path);  // parts a killed run left unfinished
  while (fs::exists(part_path(finished_))) {
    try {
      kept_packets_ += count_logged_packets(part_path(finished_));
    } catch (const Error& damaged) {
      dropped_ = damaged.what();
      break;
    }
    ++finished_;
  }
  // The damaged part and every later one, after a gap too (a part removed by hand).
  std::vector<fs::path> later;
  for (const auto& entry : fs::directory_iterator(folder_)) {
    int part = -1;
    const std::string name = entry.path().filename().string();
    if (name.size() == part_name(0).size() && name.ends_with(".packets") &&
        std::sscanf(name.c_str(), "part-%d.packets", &part) == 1 && part >= finished_) {
      later.push_back(entry.path());
    }
  }
  for (const fs::path& path : later) fs::remove(path);
}

fs::path PartStore::part_path(int part) const { return folder_ / part_name(part); }

fs::path PartStore::temp_path(int part) const { return folder_ / (part_name(part) + ".tmp"); }

void PartStore::finish_part(int part) {
  std::error_code error;
  fs::rename(temp_path(part), part_path(part), error);
  if (error) throw Error(part_path(part).string() + ": cannot write: " + error.message());
  sync_to_disk(part_path(part));  // the new name too: the log itself is synced already
  finished_ = part + 1;
}

void PartStore::remove() {
  remove_ours(folder_);
  lock_.reset();
}

}  // namespace quicksr::video
