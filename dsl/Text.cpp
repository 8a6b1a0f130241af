//===- Text.cpp - Showing untrusted bytes in messages ---------------------===//

#include "dsl/Text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

using namespace attnc::dsl;

size_t attnc::dsl::utf8SequenceLength(std::string_view text, size_t pos) {
  auto byteAt = [&](size_t i) -> unsigned {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0x100;
  };
  auto inRange = [](unsigned byte, unsigned lo, unsigned hi) {
    return byte >= lo && byte <= hi;
  };
  unsigned lead = byteAt(pos);
  if (lead < 0x80)
    return 1;
  // The second byte's range depends on the lead byte (RFC 3629, table 3-7
  // of the Unicode standard); later bytes are plain continuation bytes.
  size_t length;
  unsigned lo = 0x80, hi = 0xBF;
  if (inRange(lead, 0xC2, 0xDF)) {
    length = 2;
  } else if (inRange(lead, 0xE0, 0xEF)) {
    length = 3;
    if (lead == 0xE0)
      lo = 0xA0;
    else if (lead == 0xED)
      hi = 0x9F;
  } else if (inRange(lead, 0xF0, 0xF4)) {
    length = 4;
    if (lead == 0xF0)
      lo = 0x90;
    else if (lead == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (!inRange(byteAt(pos + 1), lo, hi))
    return 0;
  for (size_t i = 2; i < length; ++i)
    if (!inRange(byteAt(pos + i), 0x80, 0xBF))
      return 0;
  return length;
}

static std::string hexEscape(unsigned char byte) {
  static const char digits[] = "0123456789abcdef";
  return {'\\', 'x', digits[byte >> 4], digits[byte & 15]};
}

DisplayUnit attnc::dsl::displayUnitAt(std::string_view text, size_t pos,
                                      bool expandTabs) {
  auto byte = static_cast<unsigned char>(text[pos]);
  if (byte >= 0x20 && byte < 0x7F)
    return {std::string(1, static_cast<char>(byte)), 1, 1};
  if (byte == '\t')
    return expandTabs ? DisplayUnit{"    ", 4, 1} : DisplayUnit{"\\t", 2, 1};
  size_t length = utf8SequenceLength(text, pos);
  // C1 controls (U+0080..U+009F) are encoded as C2 80..C2 9F; they are as
  // unprintable as their ASCII cousins.
  bool isC1Control = length == 2 && byte == 0xC2 &&
                     static_cast<unsigned char>(text[pos + 1]) < 0xA0;
  if (length > 1 && !isC1Control)
    return {std::string(text.substr(pos, length)), 1, length};
  return {hexEscape(byte), 4, 1};
}

std::string attnc::dsl::escapeBytes(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    DisplayUnit unit = displayUnitAt(text, pos, /*expandTabs=*/false);
    result += unit.text;
    pos += unit.numBytes;
  }
  return result;
}

std::string attnc::dsl::quote(std::string_view text, size_t maxChars) {
  std::string result = "'";
  size_t shown = 0;
  for (size_t pos = 0; pos < text.size();) {
    DisplayUnit unit = displayUnitAt(text, pos, /*expandTabs=*/false);
    if (shown + unit.width > maxChars) {
      result += "...";
      break;
    }
    result += unit.text;
    shown += unit.width;
    pos += unit.numBytes;
  }
  return result + "'";
}

std::string attnc::dsl::formatDouble(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".e") == std::string::npos)
    text += ".0";
  return text;
}

unsigned attnc::dsl::editDistance(std::string_view a, std::string_view b,
                                  unsigned limit) {
  size_t lengthGap =
      a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (lengthGap > limit)
    return limit + 1;
  std::vector<unsigned> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = static_cast<unsigned>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    unsigned diagonal = row[0];
    row[0] = static_cast<unsigned>(i);
    unsigned rowMin = row[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      unsigned above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      diagonal = above;
      rowMin = std::min(rowMin, row[j]);
    }
    if (rowMin > limit)
      return limit + 1;
  }
  return std::min(row[b.size()], limit + 1);
}
