#pragma once
// Runs the quicksr binary (QUICKSR_BINARY, defined by the test target) and captures its output.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace quicksr::test_support {

struct RunResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// A path as one shell word (test paths contain no single quote).
inline std::string quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

inline RunResult run_program(const std::string& program, const std::string& arguments) {
  const std::string command = program + " " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

inline RunResult run_quicksr(const std::string& arguments) {
  return run_program(QUICKSR_BINARY, arguments);
}

}  // namespace quicksr::test_support
