// The output folder of `nystrom run`, replaced as a unit: the outputs are
// written into a fresh folder beside it, which then takes its place, so the
// folder ends holding exactly this run's outputs or exactly what it held
// before (a failure halfway leaves it untouched).
#pragma once
#include <string>
#include <vector>

namespace nystrom::cli {

class OutputFolder {
 public:
  // Checks, before any work, that dir can be made or replaced: an existing
  // dir must be a folder holding nothing but files named in `names` (so no
  // file of the user's is ever removed with it), and the folder it is in (or
  // the nearest existing one, when parents are missing) must be writable.
  OutputFolder(const std::string& dir, std::vector<std::string> names);
  ~OutputFolder();
  OutputFolder(const OutputFolder&) = delete;
  OutputFolder& operator=(const OutputFolder&) = delete;

  // Creates the missing parents and the fresh folder; returns its path, in
  // which to write the outputs.
  std::string begin();
  // Puts the fresh folder in dir's place and removes the old one.
  void commit();

 private:
  void remove_folder(const std::string& folder) const;
  std::string dir_, target_, staging_;
  std::vector<std::string> names_;
};

}  // namespace nystrom::cli
