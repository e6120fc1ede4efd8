// The main of a helper executable (quicksr-train, quicksr-bench): runs one sub-command. `quicksr
// COMMAND` execs it, so that quicksr itself never loads the helper's libraries (LibTorch, oneDNN).
#include "cli/commands.hpp"
#include "cli/run_command.hpp"

#ifdef QUICKSR_HELPER_KEEPS_FREED_MEMORY
#include <malloc.h>
#endif

int main(int argc, char** argv) {
#ifdef QUICKSR_HELPER_KEEPS_FREED_MEMORY
  // LibTorch frees and reallocates tensors of many MB every step; glibc returned them to the
  // kernel, and faulting them in again took 2/3 of a short AdaRound run (11.8 -> 3.1 s wall).
  constexpr int kOneGigabyte = 1 << 30;
  mallopt(M_TRIM_THRESHOLD, kOneGigabyte);
  mallopt(M_TOP_PAD, kOneGigabyte / 2);
#endif
  return quicksr::cli::run_command(QUICKSR_HELPER_COMMAND, quicksr::cli::QUICKSR_HELPER_FUNCTION,
                                   quicksr::cli::CommandArgs(argv + 1, argc - 1));
}
