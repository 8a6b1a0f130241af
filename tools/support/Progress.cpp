//===- Progress.cpp - A progress bar for long tool runs -------------------===//
#include "tools/support/Progress.h"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

using namespace attnc;

Progress::Progress(std::string title, size_t total)
    : title(std::move(title)), total(total), terminal(isatty(2) != 0) {}

Progress::~Progress() {
  std::lock_guard<std::mutex> lock(mutex);
  if (terminal && lastWidth > 0)
    std::fputc('\n', stderr);
}

void Progress::step(const std::string &what) {
  std::lock_guard<std::mutex> lock(mutex);
  ++done;
  std::string count =
      "[" + std::to_string(done) + "/" + std::to_string(total) + "]";
  if (!terminal) {
    std::fprintf(stderr, "%s %s %s\n", title.c_str(), count.c_str(),
                 what.c_str());
    return;
  }
  constexpr size_t barWidth = 30;
  // More steps than announced fill the bar, no further.
  size_t filled =
      total ? std::min(barWidth, done * barWidth / total) : barWidth;
  std::string line = title + " [" + std::string(filled, '#') +
                     std::string(barWidth - filled, '.') + "] " +
                     std::to_string(done) + "/" + std::to_string(total) + " " +
                     what;
  // Pad over the previous, possibly longer, line.
  size_t width = line.size();
  if (width < lastWidth)
    line += std::string(lastWidth - width, ' ');
  lastWidth = width;
  std::fprintf(stderr, "\r%s", line.c_str());
  std::fflush(stderr);
}
