//===- Frontend.cpp - Parse and check a DSL source file -------------------===//

#include "dsl/Frontend.h"
#include "dsl/Parser.h"
#include "dsl/Sema.h"
#include "dsl/Text.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

using namespace attnc::dsl;

std::optional<Module> attnc::dsl::parseAndCheck(const SourceFile &file,
                                                DiagnosticEngine &diags) {
  std::optional<std::vector<BlockSyntax>> blocks =
      Parser(file, diags).parseFile();
  if (!blocks)
    return std::nullopt;
  return Sema(diags).checkModule(file.name, std::move(*blocks));
}

std::optional<Module> attnc::dsl::parseAndCheckText(const std::string &name,
                                                    const std::string &text,
                                                    std::string &diagnostics) {
  SourceFile file{name, text};
  DiagnosticEngine diags(file);
  std::optional<Module> module = parseAndCheck(file, diags);
  if (!module) {
    std::ostringstream os;
    diags.print(os);
    diagnostics = os.str();
  }
  return module;
}

std::optional<SourceFile> attnc::dsl::readSourceFile(const std::string &path,
                                                     std::string &error) {
  auto fail = [&](const char *what, int errorNumber) {
    error = std::string("cannot ") + what + " '" + escapeBytes(path) +
            "': " + std::strerror(errorNumber);
    return std::nullopt;
  };
  errno = 0;
  std::FILE *stream = std::fopen(path.c_str(), "rb");
  if (!stream)
    return fail("open", errno);
  SourceFile file;
  file.name = path;
  char buffer[1 << 16];
  size_t count;
  while ((count = std::fread(buffer, 1, sizeof(buffer), stream)) > 0)
    file.text.append(buffer, count);
  // Opening a directory succeeds; reading it is what fails (EISDIR).
  int readError = std::ferror(stream) ? (errno != 0 ? errno : EIO) : 0;
  std::fclose(stream);
  if (readError != 0)
    return fail("read", readError);
  return file;
}
