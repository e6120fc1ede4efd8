// The CPUID + XGETBV feature detection against Linux's own view of the CPU: the flags line of
// /proc/cpuinfo, which the kernel fills from CPUID and clears for state the OS does not save.
#include "engine/cpu_features.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace quicksr::engine {
namespace {

// The flags of the first processor in /proc/cpuinfo; empty when it cannot be read.
std::set<std::string> proc_cpuinfo_flags() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string flag; words >> flag;) flags.insert(flag);
    return flags;
  }
  return {};
}

TEST(CpuFeatures, AgreeWithProcCpuinfo) {
#if !defined(__x86_64__) && !defined(__i386__)
  GTEST_SKIP() << "not an x86 CPU: no CPUID";
#endif
  const std::set<std::string> flags = proc_cpuinfo_flags();
  if (flags.empty()) GTEST_SKIP() << "no flags line in /proc/cpuinfo (not Linux?)";
  // Any x86-64 Linux machine reports sse2; its absence means the flags were misread.
  ASSERT_TRUE(flags.count("sse2")) << "unexpected /proc/cpuinfo flags line";
  const CpuFeatures& f = cpu_features();
  const auto has = [&](const char* flag) { return flags.count(flag) == 1; };
  EXPECT_EQ(f.avx2, has("avx2"));
  EXPECT_EQ(f.fma, has("fma"));
  EXPECT_EQ(f.avx_vnni, has("avx_vnni"));
  EXPECT_EQ(f.avx512f, has("avx512f"));
  EXPECT_EQ(f.avx512bw, has("avx512bw"));
  EXPECT_EQ(f.avx512vl, has("avx512vl"));
  EXPECT_EQ(f.avx512dq, has("avx512dq"));
  EXPECT_EQ(f.avx512_vnni, has("avx512_vnni"));
}

}  // namespace
}  // namespace quicksr::engine
