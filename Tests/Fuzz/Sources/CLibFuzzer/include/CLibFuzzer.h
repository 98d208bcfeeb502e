#ifndef TWOFOLD_CLIBFUZZER_H
#define TWOFOLD_CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, for a program that has its own main (LLVM's FuzzerInterface.h): it reads
/// libFuzzer's options from argv and calls `callback` with each input.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
