// The benchmark tools' one way to read a certificate or key file.
#ifndef LIENTHONG_TESTS_BENCH_READ_FILE_H_
#define LIENTHONG_TESTS_BENCH_READ_FILE_H_

#include <string>

namespace lienthong::bench {

// Reads the whole of `path` into `*out`; false when it cannot be opened.
bool ReadFile(const std::string& path, std::string* out);

}  // namespace lienthong::bench

#endif  // LIENTHONG_TESTS_BENCH_READ_FILE_H_
