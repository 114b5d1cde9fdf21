#pragma once

#include <string>

namespace bridge::testing {

/// A fresh directory from mkdtemp under /tmp, removed recursively on
/// destruction. path() is empty if creation failed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace bridge::testing
