#pragma once
// The GoogleTest name of a kernel-registry case: the config's name, other characters as '_'.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace quicksr::engine {

template <typename Config>
std::string config_name(const testing::TestParamInfo<const Config*>& info) {
  std::string name = info.param->name;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

}  // namespace quicksr::engine
