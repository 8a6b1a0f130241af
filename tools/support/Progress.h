//===- Progress.h - A progress bar for long tool runs ---------------------===//
//
// On a terminal, one line redrawn in place:
//   "time [#####.....] 12/40 0:07 elapsed, ETA 0:21 what"
// Elsewhere (logs, pipes, CI), one line per step, so the record keeps every
// step and nothing is overwritten, the times after the step's text:
//   "time [12/40] what | 0:07 elapsed, ETA 0:21"
// The ETA assumes the remaining steps take as long as the done ones did on
// average: elapsed / done * (total - done).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TOOLS_SUPPORT_PROGRESS_H
#define ATTNC_TOOLS_SUPPORT_PROGRESS_H

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace attnc {

class Progress {
public:
  /// `title` precedes each line ("compile", "time"). The clock starts here.
  Progress(std::string title, size_t total);
  ~Progress();
  /// Counts one step done and shows `what` next to the count. Thread-safe.
  void step(const std::string &what);

  /// "0:07", "12:34", "1:02:03": `seconds` rounded to the nearest second.
  static std::string formatDuration(double seconds);
  /// "0:07 elapsed, ETA 0:21" after `done` of `total` steps took
  /// `elapsedSeconds`; no ETA once more steps than announced are done.
  static std::string timing(double elapsedSeconds, size_t done, size_t total);

private:
  std::mutex mutex;
  std::string title;
  size_t total, done = 0;
  bool terminal;
  size_t lastWidth = 0;
  std::chrono::steady_clock::time_point start;
};

} // namespace attnc

#endif // ATTNC_TOOLS_SUPPORT_PROGRESS_H
