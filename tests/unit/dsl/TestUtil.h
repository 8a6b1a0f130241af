//===- TestUtil.h - Shared helpers for the DSL unit tests -----------------===//
#ifndef ATTNC_TESTS_UNIT_DSL_TESTUTIL_H
#define ATTNC_TESTS_UNIT_DSL_TESTUTIL_H

#include "dsl/Frontend.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attnc::dsl::test {

/// The outcome of parseAndCheck on an in-memory file. The file and the
/// engine live on the heap because the engine keeps a reference to the file.
struct ParseResult {
  std::unique_ptr<SourceFile> file;
  std::unique_ptr<DiagnosticEngine> diags;
  std::optional<Module> module;

  /// The first error, or null when there is none.
  const Diagnostic *firstError() const;
  /// Every diagnostic, rendered.
  std::string rendered() const;
};

ParseResult parse(std::string text, std::string name = "test.attn");

/// A block `attention t { ... }` with every required key (fp16, head_dim 64,
/// 8 query heads, 2 KV heads) followed by `entries`, one per line.
std::string blockWith(const std::string &entries);

/// "attention a {\n<text>\n}\n": a block whose line 2 is `text`.
std::string line2(const std::string &text);

/// The first spec of a module that must have parsed.
const AttentionSpec &onlySpec(const ParseResult &result);

/// Asserts the contract MLIRGen relies on, everywhere below `e`: every node
/// is typed, and every operand already has the type its operation needs.
void checkTypeContract(const Expr &e);
/// The same for every expression of `spec`, plus the types of the roots.
void checkTypeContract(const AttentionSpec &spec);

/// The repository root: $ATTNC_SOURCE_DIR, else the one this was built from.
std::string sourceDir();
/// Every examples/*.attn file, sorted.
std::vector<std::string> exampleFiles();
std::string readFile(const std::string &path);

/// True when `loc` names a byte position in `text`, or the end of one of
/// its lines (where "expected ..., found end of line" points).
bool isInside(const std::string &text, SourceLoc loc);

} // namespace attnc::dsl::test

#endif // ATTNC_TESTS_UNIT_DSL_TESTUTIL_H
