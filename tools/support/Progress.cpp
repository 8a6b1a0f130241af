//===- Progress.cpp - A progress bar for long tool runs -------------------===//
#include "tools/support/Progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sys/ioctl.h>
#include <unistd.h>

using namespace attnc;

Progress::Progress(std::string title, size_t total)
    : title(std::move(title)), total(total), terminal(isatty(2) != 0),
      start(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  std::lock_guard<std::mutex> lock(mutex);
  if (terminal && lastWidth > 0)
    std::fputc('\n', stderr);
}

std::string Progress::formatDuration(double seconds) {
  long long s = std::isfinite(seconds) && seconds > 0
                    ? static_cast<long long>(std::llround(seconds))
                    : 0;
  if (s >= 3600)
    return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string Progress::timing(double elapsedSeconds, size_t done, size_t total) {
  std::string text = formatDuration(elapsedSeconds) + " elapsed";
  // The average step so far, times the steps left; with nothing done yet
  // there is no average to go by.
  if (done > 0 && done <= total)
    text += ", ETA " + formatDuration(elapsedSeconds / double(done) *
                                      double(total - done));
  return text;
}

void Progress::step(const std::string &what) {
  std::lock_guard<std::mutex> lock(mutex);
  ++done;
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::string times = timing(elapsed, done, total);
  if (!terminal) {
    // The step's text first, as before the times were shown: logs read
    // and grepped as "title [done/total] what".
    fmt::print(stderr, "{} [{}/{}] {} | {}\n", title, done, total, what, times);
    return;
  }
  constexpr size_t barWidth = 30;
  // More steps than announced fill the bar, no further.
  size_t filled =
      total ? std::min(barWidth, done * barWidth / total) : barWidth;
  // The times before `what`, whose length varies, so they stay in place.
  std::string line =
      fmt::format("{} [{:#<{}}{:.<{}}] {}/{} {} {}", title, "", filled, "",
                  barWidth - filled, done, total, times, what);
  // A line wider than the terminal wraps, and "\r" then redraws only its
  // last part: cut it to fit.
  struct winsize size = {};
  if (ioctl(2, TIOCGWINSZ, &size) == 0 && size.ws_col > 1 &&
      line.size() >= size.ws_col)
    line.resize(size.ws_col - 1);
  // Pad over the previous, possibly longer, line.
  size_t width = line.size();
  if (width < lastWidth)
    line += std::string(lastWidth - width, ' ');
  lastWidth = width;
  std::fprintf(stderr, "\r%s", line.c_str());
  std::fflush(stderr);
}
