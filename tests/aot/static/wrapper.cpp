// A library over the kernel library, which it links privately.
const char *kernelLibrarySpec();
const char *wrappedKernelSpec() { return kernelLibrarySpec(); }
