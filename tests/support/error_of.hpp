#pragma once
// The message of the quicksr::Error an action throws; a test failure when it throws none.
#include <gtest/gtest.h>

#include <string>

#include "quicksr/error.hpp"

namespace quicksr::test_support {

std::string error_of(const auto& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

}  // namespace quicksr::test_support
