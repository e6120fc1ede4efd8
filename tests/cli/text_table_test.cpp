// TextTable against tables written out by hand.
#include "cli/text_table.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using quicksr::cli::TextTable;

std::string printed(const TextTable& table) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  table.print(out);
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

TEST(TextTable, ColumnsAreAsWideAsTheirWidestCell) {
  TextTable table({{"name"}, {"n", TextTable::Align::kRight}, {"file"}});
  table.add_row({"a-long-model-name", "7", "x.safetensors"});
  table.add_row({"b", "12345", "y"});
  EXPECT_EQ(printed(table),
            "name                   n  file\n"
            "a-long-model-name      7  x.safetensors\n"
            "b                  12345  y\n");
}

TEST(TextTable, HeaderWiderThanCellsAndNoRows) {
  TextTable table({{"image"}, {"PSNR (dB)", TextTable::Align::kRight}});
  EXPECT_EQ(printed(table), "image  PSNR (dB)\n");
  table.add_row({"a", quicksr::cli::fixed(31.25, 4)});
  EXPECT_EQ(printed(table), "image  PSNR (dB)\na        31.2500\n");
}

}  // namespace
