//===- StatusTest.cpp - Status and Expected -------------------------------===//

#include "runtime/kvcache/Status.h"

#include <catch2/catch.hpp>

#include <memory>

using namespace attnc::kvcache;

TEST_CASE("Status carries a code and a message", "[kvcache][status]") {
  Status ok = Status::success();
  CHECK(ok.ok());
  CHECK(ok.code() == ErrorCode::Ok);
  CHECK(ok.toString() == "ok");

  Status err = Status::error(ErrorCode::PoolExhausted, "needs 3 pages");
  CHECK_FALSE(err.ok());
  CHECK(err.code() == ErrorCode::PoolExhausted);
  CHECK(err.message() == "needs 3 pages");
  CHECK(err.toString() == "pool exhausted: needs 3 pages");
}

TEST_CASE("Expected holds a value or an error", "[kvcache][status]") {
  Expected<std::unique_ptr<int>> value(std::make_unique<int>(7));
  REQUIRE(value.ok());
  CHECK(static_cast<bool>(value));
  CHECK(**value == 7);
  std::unique_ptr<int> taken = value.takeValue();
  CHECK(*taken == 7);

  Expected<int> error(Status::error(ErrorCode::UnknownSequence, "seq 3"));
  CHECK_FALSE(error.ok());
  CHECK(error.status().code() == ErrorCode::UnknownSequence);
  Status moved = error.takeStatus();
  CHECK(moved.message() == "seq 3");
}

TEST_CASE("every error code has a name", "[kvcache][status]") {
  for (ErrorCode code :
       {ErrorCode::Ok, ErrorCode::PoolExhausted, ErrorCode::UnknownSequence,
        ErrorCode::InvalidArgument, ErrorCode::OutOfMemory,
        ErrorCode::BackendError, ErrorCode::InternalError})
    CHECK(std::string(errorCodeName(code)) != "unknown error");
}
