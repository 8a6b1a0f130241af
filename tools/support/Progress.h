//===- Progress.h - A progress bar for long tool runs ---------------------===//
//
// On a terminal, one line redrawn in place: "[#####.....] 12/40 what".
// Elsewhere (logs, pipes, CI), one line per step, so the record keeps every
// step and nothing is overwritten.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TOOLS_SUPPORT_PROGRESS_H
#define ATTNC_TOOLS_SUPPORT_PROGRESS_H

#include <cstddef>
#include <mutex>
#include <string>

namespace attnc {

class Progress {
public:
  /// `title` precedes each line ("compile", "time").
  Progress(std::string title, size_t total);
  ~Progress();
  /// Counts one step done and shows `what` next to the count. Thread-safe.
  void step(const std::string &what);

private:
  std::mutex mutex;
  std::string title;
  size_t total, done = 0;
  bool terminal;
  size_t lastWidth = 0;
};

} // namespace attnc

#endif // ATTNC_TOOLS_SUPPORT_PROGRESS_H
