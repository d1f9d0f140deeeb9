// The csgi command line: `csgi serve APP`, `csgi apps`, `csgi --version`.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0)) {
    std::printf("csgi %s (spec %s)\n", CSGI_VERSION, CSGI_SPEC_VERSION);
    return 0;
  }
  std::fprintf(stderr, "usage: csgi --version\n");
  return 2;
}
