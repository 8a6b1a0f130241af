//===- BatchTablesTest.cpp - block_table and kv_lens export ---------------===//

#include "Fixtures.h"

#include "runtime/kvcache/BatchTables.h"

using namespace attnc::kvcache;
using namespace attnc::kvcache::test;

TEST_CASE("export pads rows to the widest table", "[kvcache][export]") {
  BlockManager m = makeManager(16, 4);
  SeqId a = m.addSequence(iota(9))->id;     // 3 pages
  SeqId b = m.addSequence(iota(2, 50))->id; // 1 page
  SeqId c = m.addSequence({})->id;          // no page
  std::vector<SeqId> batch = {b, a, c, a};
  Expected<BatchTables> t = exportBatchTables(m, batch, /*padValue=*/-1);
  REQUIRE(t.ok());
  CHECK(t->batch == 4);
  CHECK(t->maxPages == 3);
  CHECK(t->kvLens == std::vector<int32_t>{2, 9, 0, 9});
  CHECK(t->blockTable ==
        std::vector<int32_t>{3, -1, -1, 0, 1, 2, -1, -1, -1, 0, 1, 2});

  Expected<BatchTables> wide = exportBatchTables(m, {b}, 7, /*maxPages=*/5);
  REQUIRE(wide.ok());
  CHECK(wide->blockTable == std::vector<int32_t>{3, 7, 7, 7, 7});

  Expected<BatchTables> none = exportBatchTables(m, {}, 0);
  REQUIRE(none.ok());
  CHECK(none->batch == 0);
  CHECK(none->blockTable.empty());
}

TEST_CASE("export errors write nothing", "[kvcache][export]") {
  BlockManager m = makeManager(16, 4);
  SeqId a = m.addSequence(iota(9))->id;
  SeqId b = m.addSequence(iota(2))->id;
  std::vector<int32_t> table(8, 1234), lens(2, 1234);

  Status narrow = exportBatchTablesInto(m, {b, a}, 0, /*maxPages=*/2,
                                        table.data(), lens.data());
  CHECK(narrow.code() == ErrorCode::InvalidArgument);
  CHECK_THAT(narrow.message(), Catch::Contains("3 pages"));
  Status unknown = exportBatchTablesInto(m, {b, SeqId(999)}, 0, 4, table.data(),
                                         lens.data());
  CHECK(unknown.code() == ErrorCode::UnknownSequence);
  CHECK(table == std::vector<int32_t>(8, 1234));
  CHECK(lens == std::vector<int32_t>(2, 1234));

  KV_REQUIRE_OK(
      exportBatchTablesInto(m, {b, a}, -1, 4, table.data(), lens.data()));
  CHECK(table == std::vector<int32_t>{3, -1, -1, -1, 0, 1, 2, -1});
  CHECK(lens == std::vector<int32_t>{2, 9});
  CHECK(exportBatchTables(m, {a}, 0, -5).status().code() ==
        ErrorCode::InvalidArgument);
}

TEST_CASE("slot mapping gives flat slot indices", "[kvcache][export]") {
  BlockManager m = makeManager(16, 4);
  SeqId a = m.addSequence(iota(3))->id;
  SeqId b = m.addSequence(iota(2, 7))->id;
  Expected<Appended> r = m.append(a, {1, 2, 3});
  REQUIRE(r.ok());
  // a: page 0 rows 3, then page 2 rows 0, 1 (b took page 1).
  CHECK(slotMapping(r->slots, 4) == std::vector<int32_t>{3, 8, 9});
  CHECK(slotMapping({}, 4).empty());
  (void)b;
}
