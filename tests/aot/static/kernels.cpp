// The kernel library's own code: the attention block it was built with.
const char *kernelLibrarySpec() { return "aot_static_mha"; }
