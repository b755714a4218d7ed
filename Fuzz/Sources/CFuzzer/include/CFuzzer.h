// libFuzzer's driver, from the toolchain's libclang_rt.fuzzer_no_main (scripts/fuzz.sh links it): each
// harness's main hands it the input callback.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
