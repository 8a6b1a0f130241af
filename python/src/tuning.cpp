//===- tuning.cpp - attnc tune and the tuning database for Python ---------===//
//
// _C.tune() is `attnc tune` as a function (tune/Tuner.h): the candidates
// compiled and pruned once, each shape timed, its winner merged into the
// database as soon as it is known. _C.read_tuning_db() reads a database.
//
//===----------------------------------------------------------------------===//
#include "attention.h"
#include "errors.h"
#include "runtimes.h"

#include "runtime/jit/DiskCache.h"
#include "tune/Tuner.h"
#include "tune/TuningDB.h"

#include <nanobind/stl/function.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstdlib>
#include <optional>

namespace nb = nanobind;

namespace attnc::python {

namespace {

nb::dict describeEntry(const TunedConfig &c) {
  nb::dict d;
  d["spec"] = c.spec;
  d["kernel"] = c.kernel;
  d["device"] = c.device;
  d["bucket"] = c.bucket;
  d["path"] = c.path;
  d["block_q"] = c.blockQ;
  d["block_kv"] = c.blockKV;
  d["stages"] = c.stages;
  d["warps"] = c.warps;
  d["splits"] = c.splits;
  d["ms"] = c.ms;
  return d;
}

nb::dict describeTimed(const TimedConfig &t) {
  nb::dict d;
  d["path"] = t.config.path;
  d["block_q"] = t.config.blockQ;
  d["block_kv"] = t.config.blockKV;
  d["stages"] = t.config.stages;
  d["warps"] = t.config.warps;
  d["splits"] = t.splits;
  d["ms"] = t.timing.medianMs;
  d["min_ms"] = t.timing.minMs;
  d["max_ms"] = t.timing.maxMs;
  d["describe"] = t.describe();
  return d;
}

using Shape3 = std::tuple<int64_t, int64_t, int64_t>;

/// The space, checked as `attnc tune` checks its options.
TuneSpace spaceOf(std::vector<std::string> paths,
                  std::vector<std::pair<int, int>> tiles,
                  std::vector<int> stages, std::vector<int> rowsPerWarp,
                  std::vector<int> splits, int warmup, int repeat) {
  TuneSpace space;
  for (const std::string &p : paths)
    if (!isKernelPath(p))
      throw nb::value_error(
          ("unknown path '" + p + "'; use prefill, packed or decode").c_str());
  for (auto [bq, bkv] : tiles)
    if (bq <= 0 || bkv <= 0)
      throw nb::value_error("tile sizes must be positive");
  for (int s : stages)
    if (s != 1 && s != 2)
      throw nb::value_error("stages are 1 or 2 (K tiles in flight)");
  for (int r : rowsPerWarp)
    if (r < 16 || r % 16 != 0 || r > 256)
      throw nb::value_error("rows_per_warp are multiples of 16 up to 256");
  for (int n : splits)
    if (n < 0 || n > 64)
      throw nb::value_error("splits are 0 (automatic) or counts 1..64");
  if (warmup < 0 || repeat < 1)
    throw nb::value_error("warmup must be >= 0 and repeat >= 1");
  if (!paths.empty())
    space.paths = std::move(paths);
  if (!tiles.empty())
    space.tiles = std::move(tiles);
  else
    for (int bq : {16, 32, 64, 128})
      for (int bkv : {16, 32, 64, 128})
        space.tiles.push_back({bq, bkv});
  if (!stages.empty())
    space.stages = std::move(stages);
  if (!rowsPerWarp.empty())
    space.rowsPerWarp = std::move(rowsPerWarp);
  if (!splits.empty())
    space.splits = std::move(splits);
  space.warmup = warmup;
  space.repeat = repeat;
  return space;
}

nb::list tune(const CompileRequest &request, const std::vector<Shape3> &shapes,
              const TuneSpace &space,
              const std::function<void(const std::string &)> &progress) {
  if (shapes.empty())
    throw nb::value_error("shapes must name at least one (batch, q_len, "
                          "kv_len)");
  std::vector<TuneShape> tuneShapes;
  for (auto [b, q, kv] : shapes) {
    if (b < 1 || q < 1 || kv < 1)
      throw nb::value_error("shapes take positive (batch, q_len, kv_len)");
    tuneShapes.push_back({b, q, kv});
  }
  checkSpec(request);
  if (request.tuningDB.empty())
    throw nb::value_error("tuning_db must name the database file to write");
  std::shared_ptr<Runtime> runtime =
      valueOr(sharedRuntime(request.backend, 0, request.cacheDir));
  // The database must read and be writable before any time is spent.
  valueOr(TuningDB::load(request.tuningDB));
  check(TuningDB::checkWritable(request.tuningDB));
  CompileRequest plain = request;
  plain.tuningDB.clear(); // JitKernels here only compiles candidates
  plain.path = "auto";
  std::unique_ptr<JitKernels> jit = createJit(*runtime, plain, {});

  // Progress lines go to Python with the GIL; an exception it raises ends
  // the reports (not the tuning) and is raised when tuning is done.
  std::optional<nb::python_error> progressError;
  auto step = [&](const std::string &what) {
    if (!progress || progressError)
      return;
    nb::gil_scoped_acquire held;
    try {
      progress(what);
    } catch (nb::python_error &e) {
      progressError.emplace(std::move(e));
    }
  };
  std::vector<std::vector<TimedConfig>> rankings;
  std::vector<TunedConfig> winners;
  Status status;
  {
    nb::gil_scoped_release released;
    Tuner tuner(*runtime, *jit, space);
    status = tuner.prepare(step);
    for (size_t i = 0; status.ok() && i < tuneShapes.size(); ++i) {
      Expected<std::vector<TimedConfig>> ranking =
          tuner.time(tuneShapes[i], step);
      if (!ranking) {
        status = ranking.status();
        break;
      }
      TunedConfig winner = tuner.entry(tuneShapes[i], ranking->front());
      // Stored as soon as it is measured: an interrupted run keeps it.
      Expected<TuningDB> saved = TuningDB::merge(request.tuningDB, {winner});
      if (!saved) {
        status = saved.status();
        break;
      }
      winners.push_back(winner);
      rankings.push_back(ranking.takeValue());
    }
  }
  check(status);
  if (progressError)
    throw std::move(*progressError);
  nb::list results;
  for (size_t i = 0; i < rankings.size(); ++i) {
    nb::dict r;
    r["shape"] = shapes[i];
    r["bucket"] = winners[i].bucket;
    r["best"] = describeEntry(winners[i]);
    nb::list ranking;
    for (const TimedConfig &t : rankings[i])
      ranking.append(describeTimed(t));
    r["ranking"] = ranking;
    results.append(r);
  }
  return results;
}

} // namespace

void bindTuning(nb::module_ &m) {
  m.def(
      "tune",
      [](std::string text, std::string name, std::string kernel,
         std::vector<Shape3> shapes, std::string tuningDB, std::string backend,
         std::string cacheDir, std::vector<std::string> paths,
         std::vector<std::pair<int, int>> tiles, std::vector<int> stages,
         std::vector<int> rowsPerWarp, std::vector<int> splits, int warmup,
         int repeat, std::function<void(const std::string &)> progress) {
        checkBackendName(backend);
        CompileRequest request{text,   name,     kernel,  backend,
                               "auto", tuningDB, cacheDir};
        return tune(
            request, shapes,
            spaceOf(paths, tiles, stages, rowsPerWarp, splits, warmup, repeat),
            progress);
      },
      nb::arg("text"), nb::arg("name"), nb::arg("kernel"), nb::arg("shapes"),
      nb::arg("tuning_db"), nb::arg("backend"), nb::arg("cache_dir"),
      nb::arg("paths"), nb::arg("tiles"), nb::arg("stages"),
      nb::arg("rows_per_warp"), nb::arg("splits"), nb::arg("warmup"),
      nb::arg("repeat"), nb::arg("progress").none(),
      "Times the spec's configurations on each shape and stores the "
      "winners in the tuning database.");
  m.def(
      "read_tuning_db",
      [](const std::string &path) {
        TuningDB db = valueOr(TuningDB::load(path));
        nb::list entries;
        for (const TunedConfig &c : db.entries())
          entries.append(describeEntry(c));
        return entries;
      },
      nb::arg("path"), "The entries of a tuning database, as dicts.");
  m.def(
      "default_tuning_db",
      [](const std::string &cacheDir) {
        // As attnc run and attnc tune choose it.
        if (const char *env = std::getenv("ATTNC_TUNING_DB"); env && *env)
          return std::string(env);
        return (cacheDir.empty() ? jit::defaultCacheDir() : cacheDir) +
               "/tuning.json";
      },
      nb::arg("cache_dir"),
      "$ATTNC_TUNING_DB, else tuning.json in the kernel cache directory.");
  m.def("spec_fingerprint", &specFingerprint, nb::arg("text"),
        nb::arg("kernel"), "The tuning database's key of a spec's block.");
  m.def("shape_bucket", &shapeBucket, nb::arg("batch"), nb::arg("max_q_len"),
        nb::arg("max_kv_len"), "The tuning database's bucket of a shape.");
}

} // namespace attnc::python
