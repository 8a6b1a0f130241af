//===- NpyHeader.cpp - The header of a .npy file --------------------------===//

#include "runtime/npy/NpyHeader.h"

#include <cctype>
#include <cstring>
#include <optional>
#include <string_view>

using namespace attnc;
using namespace attnc::npy;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;

Status ioError(const std::string &name, const std::string &what) {
  return Status::error(ErrorCode::IOError, name + ": " + what);
}

/// `text` as it can be shown in a message: printable ASCII kept, anything
/// else escaped as in Python (a header is arbitrary bytes in a bad file).
std::string escape(std::string_view text) {
  std::string out;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

/// The header text quoted for a message, cut short when long.
std::string quoteHeader(std::string_view text) {
  constexpr size_t kShown = 80;
  if (text.size() <= kShown)
    return "\"" + escape(text) + "\"";
  return "\"" + escape(text.substr(0, kShown)) + "\"...";
}

/// The three entries every .npy header dict has.
struct HeaderFields {
  std::optional<std::string> descr;
  std::optional<bool> fortranOrder;
  std::optional<std::vector<int64_t>> shape;
};

/// A parser for the Python dict literal NumPy writes as a header: string
/// keys; string, bool or tuple-of-int values. Anything else is an error,
/// because anything else is not a file np.save could have written.
class HeaderParser {
public:
  HeaderParser(std::string_view text, const std::string &name)
      : text(text), name(name) {}

  Status parse(HeaderFields &fields) {
    skipSpace();
    if (!consume('{'))
      return fail("expected '{' to open the header dict");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (Status s = parseString(key, "a key string"); !s.ok())
        return s;
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after key '" + escape(key) + "'");
      skipSpace();
      if (Status s = parseEntry(key, fields); !s.ok())
        return s;
      skipSpace();
      if (consume(','))
        continue;
      if (consume('}'))
        break;
      return fail("expected ',' or '}' after the value of '" + escape(key) +
                  "'");
    }
    skipSpace();
    if (pos != text.size())
      return fail("unexpected text after the header dict");
    if (!fields.descr)
      return missing("descr");
    if (!fields.fortranOrder)
      return missing("fortran_order");
    if (!fields.shape)
      return missing("shape");
    return Status::success();
  }

private:
  Status parseEntry(const std::string &key, HeaderFields &fields) {
    if (key == "descr") {
      if (fields.descr)
        return duplicate(key);
      if (peek() == '[')
        return fail("structured dtypes (a list as 'descr') are not "
                    "supported");
      std::string descr;
      if (Status s = parseString(descr, "a dtype string as 'descr'"); !s.ok())
        return s;
      fields.descr = std::move(descr);
      return Status::success();
    }
    if (key == "fortran_order") {
      if (fields.fortranOrder)
        return duplicate(key);
      bool value = false;
      if (Status s = parseBool(value); !s.ok())
        return s;
      fields.fortranOrder = value;
      return Status::success();
    }
    if (key == "shape") {
      if (fields.shape)
        return duplicate(key);
      std::vector<int64_t> shape;
      if (Status s = parseShape(shape); !s.ok())
        return s;
      fields.shape = std::move(shape);
      return Status::success();
    }
    return fail("unknown key '" + escape(key) +
                "' (a .npy header has exactly 'descr', 'fortran_order' and "
                "'shape')");
  }

  Status parseString(std::string &out, const char *what) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return fail(std::string("expected ") + what);
    ++pos;
    size_t start = pos;
    while (pos < text.size() && text[pos] != quote) {
      // NumPy's descr strings and keys never need escapes; accepting them
      // would mean implementing Python's escape rules for no file np.save
      // writes.
      if (text[pos] == '\\' || text[pos] == '\n')
        return fail("unsupported character in a string");
      ++pos;
    }
    if (pos == text.size())
      return fail("unterminated string");
    out.assign(text.substr(start, pos - start));
    ++pos;
    return Status::success();
  }

  Status parseBool(bool &out) {
    if (consumeWord("True")) {
      out = true;
      return Status::success();
    }
    if (consumeWord("False")) {
      out = false;
      return Status::success();
    }
    return fail("expected True or False as 'fortran_order'");
  }

  Status parseShape(std::vector<int64_t> &shape) {
    if (!consume('('))
      return fail("expected a tuple as 'shape'");
    bool trailingComma = false;
    while (true) {
      skipSpace();
      if (consume(')'))
        break;
      if (!shape.empty() && !trailingComma)
        return fail("expected ',' or ')' in 'shape'");
      if (shape.size() == kMaxRank)
        return fail("'shape' has more than " + std::to_string(kMaxRank) +
                    " dimensions");
      int64_t dim = 0;
      if (Status s = parseDim(dim); !s.ok())
        return s;
      shape.push_back(dim);
      skipSpace();
      trailingComma = consume(',');
    }
    // In Python "(3)" is the integer 3, not a tuple: np.save writes "(3,)".
    if (shape.size() == 1 && !trailingComma)
      return fail("'shape' (" + std::to_string(shape[0]) +
                  ") is not a tuple; a 1-d shape is written (" +
                  std::to_string(shape[0]) + ",)");
    return Status::success();
  }

  Status parseDim(int64_t &out) {
    if (peek() == '-')
      return fail("negative dimension in 'shape'");
    if (!isDigit(peek()))
      return fail("expected a non-negative integer in 'shape'");
    int64_t value = 0;
    while (isDigit(peek())) {
      int digit = text[pos] - '0';
      if (value > (INT64_MAX - digit) / 10)
        return fail("dimension in 'shape' does not fit in 64 bits");
      value = value * 10 + digit;
      ++pos;
    }
    // Python 2 wrote long integers with an L suffix, e.g. (3L, 4L).
    if (peek() == 'L')
      ++pos;
    out = value;
    return Status::success();
  }

  static bool isDigit(char c) { return c >= '0' && c <= '9'; }
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
  bool consume(char c) {
    if (peek() != c)
      return false;
    ++pos;
    return true;
  }
  bool consumeWord(std::string_view word) {
    if (text.substr(pos, word.size()) != word)
      return false;
    size_t end = pos + word.size();
    // "Truex" is a name, not True.
    if (end < text.size() &&
        (std::isalnum(static_cast<unsigned char>(text[end])) ||
         text[end] == '_'))
      return false;
    pos = end;
    return true;
  }
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }

  Status fail(const std::string &what) const {
    return ioError(name, "malformed header: " + what + " at offset " +
                             std::to_string(pos) + " of " + quoteHeader(text));
  }
  Status missing(const char *key) const {
    return ioError(name, std::string("malformed header: no '") + key +
                             "' entry in " + quoteHeader(text));
  }
  Status duplicate(const std::string &key) const {
    return fail("duplicate key '" + key + "'");
  }

  std::string_view text;
  const std::string &name;
  size_t pos = 0;
};

/// The dtype a descr names, or an error saying why it is not supported.
Expected<NpyDType> parseDescr(const std::string &descr,
                              const std::string &name) {
  static const struct {
    const char *code;
    NpyDType dtype;
  } kKnown[] = {{"f2", NpyDType::F16},
                {"f4", NpyDType::F32},
                {"f8", NpyDType::F64},
                {"i4", NpyDType::I32},
                {"i8", NpyDType::I64}};
  if (descr.size() >= 2) {
    char order = descr[0];
    std::string code = descr.substr(1);
    for (const auto &known : kKnown) {
      if (code != known.code)
        continue;
      if (order == '<' || order == '|')
        return known.dtype;
      if (order == '>')
        return ioError(name, "big-endian dtype '" + escape(descr) +
                                 "' is not supported; save the array as "
                                 "little-endian ('<" +
                                 code + "')");
    }
  }
  return ioError(name, "unsupported dtype '" + escape(descr) +
                           "' (supported: '<f2', '<f4', '<f8', '<i4', "
                           "'<i8')");
}

/// Whether C and Fortran order lay `shape` out identically: at most one
/// dimension longer than 1, or no element at all.
bool orderIsIrrelevant(const std::vector<int64_t> &shape) {
  int longDims = 0;
  for (int64_t d : shape) {
    if (d == 0)
      return true;
    longDims += d > 1;
  }
  return longDims <= 1;
}

} // namespace

std::string npy::formatShape(const std::vector<int64_t> &shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

Expected<int64_t> npy::checkedElementCount(const std::vector<int64_t> &shape,
                                           size_t elementSize,
                                           const std::string &what,
                                           ErrorCode code) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return Status::error(code, what + " " + formatShape(shape) +
                                     " has a negative dimension");
    if (__builtin_mul_overflow(count, d, &count))
      return Status::error(code, what + " " + formatShape(shape) +
                                     " has more elements than fit in 64 bits");
  }
  int64_t bytes = 0;
  if (__builtin_mul_overflow(count, static_cast<int64_t>(elementSize),
                             &bytes) ||
      static_cast<uint64_t>(bytes) > SIZE_MAX)
    return Status::error(code, what + " " + formatShape(shape) + " of " +
                                   std::to_string(elementSize) +
                                   "-byte elements is too large to address");
  return count;
}

Expected<size_t> npy::parseNpyPreamble(const uint8_t *data, size_t size,
                                       const std::string &name) {
  if (size == 0)
    return ioError(name, "empty file, not a .npy file");
  size_t magicShown = size < kMagicBytes ? size : kMagicBytes;
  if (std::memcmp(data, kMagic, magicShown) != 0)
    return ioError(name, "not a .npy file (it does not start with the "
                         "magic bytes \\x93NUMPY)");
  if (size < kMagicBytes + 2)
    return ioError(name, "truncated: " + std::to_string(size) +
                             " bytes, too short for the .npy preamble");
  int major = data[6], minor = data[7];
  if (major < 1 || major > 3 || minor != 0)
    return ioError(
        name, "unsupported .npy format version " + std::to_string(major) + "." +
                  std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  // Version 1.0 has a 2-byte header length; 2.0 and 3.0 a 4-byte one.
  size_t lengthBytes = major == 1 ? 2 : 4;
  size_t headerStart = kMagicBytes + 2 + lengthBytes;
  if (size < headerStart)
    return ioError(name, "truncated: " + std::to_string(size) +
                             " bytes, too short for the .npy preamble");
  uint64_t headerLength = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    headerLength |= static_cast<uint64_t>(data[8 + i]) << (8 * i);
  if (headerLength > kMaxHeaderBytes)
    return ioError(name, "header length " + std::to_string(headerLength) +
                             " is implausibly large (more than " +
                             std::to_string(kMaxHeaderBytes) + " bytes)");
  return headerStart + static_cast<size_t>(headerLength);
}

Expected<NpyHeader> npy::parseNpyHeader(const uint8_t *data, size_t size,
                                        const std::string &name) {
  Expected<size_t> dataOffset = parseNpyPreamble(data, size, name);
  if (!dataOffset)
    return dataOffset.takeStatus();
  if (size < *dataOffset)
    return ioError(name, "truncated header: the preamble announces " +
                             std::to_string(*dataOffset) +
                             " bytes of preamble and header, the file has " +
                             std::to_string(size));
  size_t headerStart = data[6] == 1 ? 10 : 12;
  std::string_view text(reinterpret_cast<const char *>(data) + headerStart,
                        *dataOffset - headerStart);
  HeaderFields fields;
  if (Status s = HeaderParser(text, name).parse(fields); !s.ok())
    return s;

  Expected<NpyDType> dtype = parseDescr(*fields.descr, name);
  if (!dtype)
    return dtype.takeStatus();
  NpyHeader header;
  header.dtype = *dtype;
  header.shape = std::move(*fields.shape);
  header.dataOffset = *dataOffset;
  if (*fields.fortranOrder && !orderIsIrrelevant(header.shape))
    return ioError(name, "array of shape " + formatShape(header.shape) +
                             " is in Fortran (column-major) order; only C "
                             "order is supported (save "
                             "np.ascontiguousarray(a))");
  Expected<int64_t> count =
      checkedElementCount(header.shape, npyDTypeSize(header.dtype),
                          name + ": shape", ErrorCode::IOError);
  if (!count)
    return count.takeStatus();
  header.dataBytes = static_cast<uint64_t>(*count) * npyDTypeSize(header.dtype);
  return header;
}

Status npy::checkNpyDataSize(const NpyHeader &header, uint64_t available,
                             const std::string &name) {
  std::string array =
      formatShape(header.shape) + " " + npyDescr(header.dtype) + " array";
  if (available < header.dataBytes)
    return ioError(name, "truncated data: the " + array + " needs " +
                             std::to_string(header.dataBytes) +
                             " bytes after the header, the file has " +
                             std::to_string(available));
  if (available > header.dataBytes)
    return ioError(name, std::to_string(available - header.dataBytes) +
                             " bytes of trailing garbage after the " + array +
                             " (" + std::to_string(header.dataBytes) +
                             " bytes of data expected)");
  return Status::success();
}

std::string npy::formatNpyHeader(NpyDType dtype,
                                 const std::vector<int64_t> &shape) {
  // The same text np.save writes, so files compare equal byte for byte.
  std::string dict =
      std::string("{'descr': '") + npyDescr(dtype) +
      "', 'fortran_order': False, 'shape': " + formatShape(shape) + ", }";
  // 64 dimensions of 19 digits make a header of about 1.5 KB, so the 2-byte
  // length of version 1.0 always suffices.
  constexpr size_t kAlign = 64, kPreamble = 10;
  size_t total = (kPreamble + dict.size() + 1 + kAlign - 1) / kAlign * kAlign;
  size_t headerLength = total - kPreamble;

  std::string out(kMagic, kMagicBytes);
  out += '\x01';
  out += '\0';
  out += static_cast<char>(headerLength & 0xff);
  out += static_cast<char>(headerLength >> 8);
  out += dict;
  out.append(headerLength - dict.size() - 1, ' ');
  out += '\n';
  return out;
}
