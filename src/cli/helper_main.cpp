// The main of a helper executable (quicksr-train, quicksr-bench): runs one sub-command. `quicksr
// COMMAND` execs it, so that quicksr itself never loads the helper's libraries (LibTorch, oneDNN).
#include "cli/commands.hpp"
#include "cli/run_command.hpp"
#include "common/heap.hpp"

int main(int argc, char** argv) {
#ifdef QUICKSR_HELPER_KEEPS_FREED_MEMORY
  quicksr::keep_freed_memory_in_heap();
#endif
  return quicksr::cli::run_command(QUICKSR_HELPER_COMMAND, quicksr::cli::QUICKSR_HELPER_FUNCTION,
                                   quicksr::cli::CommandArgs(argv + 1, argc - 1));
}
