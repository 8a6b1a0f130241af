//===- Diagnostics.h - Located error reporting for the DSL ----------------===//
//
// Errors print as
//   file:line:col: error: message
//     <the source line>
//     <spaces>^
// Lines longer than a terminal are shown as a window around the column, and
// bytes that are not printable are shown escaped, so garbage input never
// produces garbage output.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_DSL_DIAGNOSTICS_H
#define ATTNC_DSL_DIAGNOSTICS_H

#include "dsl/AST.h"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace attnc::dsl {

/// A named, in-memory source file.
struct SourceFile {
  std::string name;
  std::string text;
};

struct Diagnostic {
  enum class Severity { Error, Note };
  Severity severity = Severity::Error;
  SourceLoc loc;
  std::string message;
};

/// Collects diagnostics for one SourceFile and renders them.
class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceFile &file) : file(file) {}

  void error(SourceLoc loc, std::string message);
  void note(SourceLoc loc, std::string message);

  bool hasErrors() const { return numErrors != 0; }
  const std::vector<Diagnostic> &diagnostics() const { return diags; }
  const SourceFile &sourceFile() const { return file; }

  /// Renders one diagnostic in the format described above.
  std::string render(const Diagnostic &diag) const;
  /// Renders every diagnostic, in order, to `os`.
  void print(std::ostream &os) const;

private:
  const SourceFile &file;
  std::vector<Diagnostic> diags;
  unsigned numErrors = 0;
};

} // namespace attnc::dsl

#endif // ATTNC_DSL_DIAGNOSTICS_H
