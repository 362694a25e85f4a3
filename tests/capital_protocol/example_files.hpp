// The venue's published example payloads (examples/, provenance in examples/SOURCES.md),
// read from QT_CAPITAL_EXAMPLES_DIR (a compile definition set by this folder's CMakeLists).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace qt::capital::testing {

inline std::filesystem::path examples_dir() {
  return QT_CAPITAL_EXAMPLES_DIR;
}

inline std::string read_example(const std::string& name) {
  std::ifstream in(examples_dir() / name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open example " << (examples_dir() / name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every *.json file name in the examples folder, sorted.
inline std::vector<std::string> example_json_files() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(examples_dir())) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace qt::capital::testing
