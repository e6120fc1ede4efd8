#include "cli/run_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <system_error>
#include <vector>

#include "quicksr/error.hpp"

namespace quicksr::cli {

int run_command(const std::string& name, CommandFunction command, CommandArgs args) {
  try {
    return command(args);
  } catch (const Error& e) {
    std::cerr << "quicksr " << name << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "quicksr " << name << ": internal error: " << e.what() << "\n";
    return 3;
  }
}

int exec_helper(const std::string& command, CommandArgs args, const std::string& caller) {
  const std::string prefix = "quicksr " + (caller.empty() ? command : caller) + ": error: ";
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::string helper = (self.parent_path() / ("quicksr-" + command)).string();
  if (ec || ::access(helper.c_str(), X_OK) != 0) {
    std::cerr << prefix << helper << " is missing: this quicksr was built without `quicksr "
              << command
              << "` (train needs -DQUICKSR_WITH_TRAINING=ON, bench needs oneDNN, OpenMP and an "
                 "x86 CPU)\n";
    return 1;
  }
  std::vector<char*> argv{helper.data()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(nullptr);
  ::execv(helper.c_str(), argv.data());
  std::cerr << prefix << "cannot run " << helper << ": " << std::strerror(errno) << "\n";
  return 1;
}

}  // namespace quicksr::cli
