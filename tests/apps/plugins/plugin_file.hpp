// A plugin file in a directory of its own that a test replaces with other
// builds (tests/apps/plugins/answer.cpp), the way a rebuild replaces it.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace csgi::testing {

class PluginFile {
 public:
  explicit PluginFile(const char* first_build) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "csgi-plugin-file-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    path_ = dir_ / "libanswer.so";
    install(first_build);
  }
  ~PluginFile() { std::filesystem::remove_all(dir_); }
  PluginFile(const PluginFile&) = delete;
  PluginFile& operator=(const PluginFile&) = delete;

  std::string path() const { return path_.string(); }
  std::filesystem::path aside() const { return dir_ / "next.so"; }

  // Puts `build` in place the way lld does: written aside, renamed over.
  void install(const char* build) const {
    std::filesystem::copy_file(build, aside(), std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(aside(), path_);
  }
  // Puts `build` in place by writing over the file, as GNU ld and cp do.
  void overwrite(const char* build) const {
    std::filesystem::copy_file(build, path_, std::filesystem::copy_options::overwrite_existing);
  }

 private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

}  // namespace csgi::testing
