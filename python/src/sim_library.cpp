// libattnc_sim.so: the SIMT emulator (runtime/sim, linked whole) as a shared
// library that attnc/__init__.py loads into the global symbol scope, so
// that sim kernels and attnc._C share its one copy. It has no code of its
// own; this file exists because a library needs a source.
