//===- Text.h - Showing untrusted bytes in messages -----------------------===//
//
// A spec file may hold any bytes. Everything the front end echoes back (token
// text in messages, the source line under a diagnostic) goes through these
// helpers, so a NUL byte or a stray escape sequence never reaches a terminal
// as itself.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_TEXT_H
#define ATTNC_DSL_TEXT_H

#include <cstddef>
#include <string>
#include <string_view>

namespace attnc::dsl {

/// Length of the well-formed UTF-8 sequence that starts at `text[pos]`, or 0
/// when the bytes there are not one (overlong forms and surrogates count as
/// malformed). Plain ASCII gives 1.
size_t utf8SequenceLength(std::string_view text, size_t pos);

/// How one source unit (an ASCII byte, a UTF-8 character, or a malformed
/// byte) is shown: its printed text and the number of columns it takes.
struct DisplayUnit {
  std::string text;
  unsigned width = 0;
  size_t numBytes = 0;
};

/// Returns the display form of the unit starting at `text[pos]`: printable
/// ASCII and well-formed non-control UTF-8 as themselves, a tab as four
/// spaces when `expandTabs` (else `\t`), everything else as `\xNN`.
DisplayUnit displayUnitAt(std::string_view text, size_t pos, bool expandTabs);

/// `text` with every unit passed through displayUnitAt (tabs escaped).
std::string escapeBytes(std::string_view text);

/// `'text'`, escaped and cut to about `maxChars` shown characters with a
/// trailing "...", for naming source text inside a message.
std::string quote(std::string_view text, size_t maxChars = 40);

/// Shortest decimal form of `value` that reads back as the same double
/// (`0.1`, `1e-07`, `inf`); always has a '.' or an exponent when finite, so
/// it lexes as a float literal.
std::string formatDouble(double value);

/// Levenshtein distance, capped: returns `limit + 1` as soon as the distance
/// is known to exceed `limit`. Used for "did you mean" hints.
unsigned editDistance(std::string_view a, std::string_view b, unsigned limit);

} // namespace attnc::dsl

#endif // ATTNC_DSL_TEXT_H
