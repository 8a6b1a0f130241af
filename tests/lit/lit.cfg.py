# lit configuration for attnc's IR and driver tests.
import os
import lit.formats

config.name = "attnc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".attn", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in"]
config.test_source_root = os.path.dirname(__file__)

site = lit_config.params.get("attnc_site_config")
if not site:
    lit_config.fatal("run through ctest, or pass --param attnc_site_config=BUILD/tests/lit/lit.site.cfg.py")
lit_config.load_config(config, site)

config.test_exec_root = os.path.join(config.attnc_binary_dir, "tests", "lit")
config.environment["PATH"] = os.pathsep.join(
    [config.attnc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("%examples", os.path.join(config.attnc_source_dir, "examples")))
