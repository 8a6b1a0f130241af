//===- Frontend.h - Parse and check a DSL source file ---------------------===//
#ifndef ATTNC_DSL_FRONTEND_H
#define ATTNC_DSL_FRONTEND_H

#include "dsl/AST.h"
#include "dsl/Diagnostics.h"

#include <optional>
#include <string>

namespace attnc::dsl {

/// Lexes, parses and checks `file`. Returns the checked module, or nullopt
/// with at least one error in `diags`. Never throws, never aborts, whatever
/// bytes the file holds.
std::optional<Module> parseAndCheck(const SourceFile &file,
                                    DiagnosticEngine &diags);

/// parseAndCheck on DSL `text` named `name` in messages; on failure,
/// `diagnostics` holds them rendered (location, source line, caret).
std::optional<Module> parseAndCheckText(const std::string &name,
                                        const std::string &text,
                                        std::string &diagnostics);

/// Reads `path` into a SourceFile; on failure returns nullopt and sets
/// `error` to a message naming the path and the reason.
std::optional<SourceFile> readSourceFile(const std::string &path,
                                         std::string &error);

/// Prints `module` back as DSL text (normalized spacing, fully
/// parenthesized expressions); parsing the result gives an equal module.
std::string printModule(const Module &module);

} // namespace attnc::dsl

#endif // ATTNC_DSL_FRONTEND_H
