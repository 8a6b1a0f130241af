//===- Diagnostics.cpp - Located error reporting for the DSL --------------===//

#include "dsl/Diagnostics.h"
#include "dsl/Text.h"

#include <optional>
#include <string_view>
#include <vector>

using namespace attnc::dsl;

namespace {
/// A source line wider than this is shown as a window around the column.
constexpr unsigned kMaxShownWidth = 200;
/// How much of a long line is kept before the caret, and in all.
constexpr unsigned kWindowBefore = 80;
constexpr unsigned kWindowWidth = 160;
/// Source lines are echoed indented by this much, as Diagnostics.h shows.
constexpr std::string_view kIndent = "  ";
} // namespace

void DiagnosticEngine::error(SourceLoc loc, std::string message) {
  diags.push_back({Diagnostic::Severity::Error, loc, std::move(message)});
  ++numErrors;
}

void DiagnosticEngine::note(SourceLoc loc, std::string message) {
  diags.push_back({Diagnostic::Severity::Note, loc, std::move(message)});
}

/// Returns line `line` (1-based) of `text` without its line break, or
/// nothing when the file has fewer lines.
static std::optional<std::string_view> findLine(std::string_view text,
                                                uint32_t line) {
  size_t start = 0;
  for (uint32_t current = 1; current < line; ++current) {
    size_t newline = text.find('\n', start);
    if (newline == std::string_view::npos)
      return std::nullopt;
    start = newline + 1;
  }
  if (start > text.size())
    return std::nullopt;
  size_t end = text.find('\n', start);
  std::string_view result =
      text.substr(start, end == std::string_view::npos ? end : end - start);
  // A CRLF file would otherwise show a `\x0d` at the end of every line.
  if (!result.empty() && result.back() == '\r')
    result.remove_suffix(1);
  return result;
}

/// Appends the source line and a caret under byte column `col` to `out`.
static void renderSnippet(std::string_view lineText, uint32_t col,
                          std::string &out) {
  std::vector<DisplayUnit> units;
  size_t caretUnit = 0;
  size_t caretByte = col > 0 ? col - 1 : 0;
  bool caretFound = false;
  unsigned totalWidth = 0;
  for (size_t pos = 0; pos < lineText.size();) {
    DisplayUnit unit = displayUnitAt(lineText, pos, /*expandTabs=*/true);
    // A caret inside a multi-byte unit points at the whole unit.
    if (!caretFound && caretByte < pos + unit.numBytes) {
      caretUnit = units.size();
      caretFound = true;
    }
    totalWidth += unit.width;
    pos += unit.numBytes;
    units.push_back(std::move(unit));
  }
  if (!caretFound)
    caretUnit = units.size(); // Just past the end of the line.

  size_t first = 0, last = units.size();
  if (totalWidth > kMaxShownWidth) {
    unsigned before = 0;
    first = caretUnit;
    while (first > 0 && before + units[first - 1].width <= kWindowBefore)
      before += units[--first].width;
    unsigned shown = before;
    last = caretUnit;
    while (last < units.size() && shown + units[last].width <= kWindowWidth)
      shown += units[last++].width;
  }

  std::string shownLine, caretLine;
  if (first > 0) {
    shownLine += "...";
    caretLine += "   ";
  }
  for (size_t i = first; i < last; ++i) {
    shownLine += units[i].text;
    if (i < caretUnit)
      caretLine.append(units[i].width, ' ');
  }
  if (last < units.size())
    shownLine += "...";
  out.append(kIndent).append(shownLine).append("\n");
  out.append(kIndent).append(caretLine).append("^\n");
}

std::string DiagnosticEngine::render(const Diagnostic &diag) const {
  std::string out = escapeBytes(file.name);
  if (diag.loc.line != 0)
    out += ":" + std::to_string(diag.loc.line) + ":" +
           std::to_string(diag.loc.col);
  out +=
      diag.severity == Diagnostic::Severity::Error ? ": error: " : ": note: ";
  out += escapeBytes(diag.message);
  out += "\n";
  if (diag.loc.line == 0)
    return out;
  if (std::optional<std::string_view> lineText =
          findLine(file.text, diag.loc.line))
    renderSnippet(*lineText, diag.loc.col, out);
  return out;
}

void DiagnosticEngine::print(std::ostream &os) const {
  for (const Diagnostic &diag : diags)
    os << render(diag);
}
