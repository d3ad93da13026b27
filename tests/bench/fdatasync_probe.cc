// fdatasync_probe: what one durable write costs on this machine's disk, the
// figure the audit journal's design and its latency target rest on.
//
//   fdatasync_probe [--dir DIR] [--writes N] [--bytes B] [--gap-us G] [--all]
//
// Writes B bytes (default 4096) at the next offset of a file and calls
// fdatasync, N times (default 200), and prints the latency percentiles of
// the write + fdatasync pair. Without --all it measures what the audit
// journal does (an overwrite of a region already written with zeros: data
// only, no metadata to commit) and prints, last, the line
//
//   fdatasync p50 N us
//
// that scripts/bench.sh shows. --gap-us G waits G microseconds between
// writes, as the journal does at one call in flight, where the disk has
// gone idle before each write (on a VM's virtual disk that is slower than
// writes back to back). --all first measures the alternatives the
// journal's design chose between, each in a fresh file:
//   append     the file grows with every write (size and extents change)
//   fallocate  overwrite inside a region reserved with fallocate(2), whose
//              extents are allocated but marked unwritten until written
//   zeroed     overwrite inside a region written with zeros and synced
//              (what the journal's preallocation does)
// The files go in DIR (default $TMPDIR or /tmp: give the journal's folder
// to measure its disk) and are removed at exit.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string dir;
  int writes = 200;
  size_t bytes = 4096;
  int gap_us = 0;
  bool all = false;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "fdatasync_probe: %s: %s\n", what.c_str(),
               std::strerror(errno));
  std::exit(1);
}

bool WriteAll(int fd, const char* data, size_t size, off_t offset) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

enum class Mode { kAppend, kFallocate, kZeroed };

const char* Name(Mode mode) {
  switch (mode) {
    case Mode::kAppend: return "append";
    case Mode::kFallocate: return "fallocate";
    case Mode::kZeroed: return "zeroed";
  }
  return "?";
}

// Returns the latencies in microseconds of `options.writes` write +
// fdatasync pairs in a fresh file prepared for `mode`.
std::vector<double> Measure(const Options& options, Mode mode) {
  const std::string path =
      options.dir + "/fdatasync-probe-" + Name(mode) + "-" +
      std::to_string(::getpid());
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) Die("open " + path);
  ::unlink(path.c_str());  // Gone at exit whatever happens.
  const off_t total = static_cast<off_t>(options.bytes) * options.writes;
  if (mode == Mode::kFallocate && ::fallocate(fd, 0, 0, total) != 0) {
    Die("fallocate");
  }
  if (mode == Mode::kZeroed) {
    std::vector<char> zeros(1 << 20, 0);
    for (off_t at = 0; at < total; at += static_cast<off_t>(zeros.size())) {
      size_t n = static_cast<size_t>(
          std::min<off_t>(total - at, static_cast<off_t>(zeros.size())));
      if (!WriteAll(fd, zeros.data(), n, at)) Die("write zeros");
    }
  }
  if (mode != Mode::kAppend && ::fsync(fd) != 0) Die("fsync");
  std::vector<char> data(options.bytes, 'x');
  std::vector<double> micros;
  micros.reserve(static_cast<size_t>(options.writes));
  for (int i = 0; i < options.writes; ++i) {
    if (options.gap_us > 0) ::usleep(static_cast<useconds_t>(options.gap_us));
    const auto start = Clock::now();
    if (!WriteAll(fd, data.data(), data.size(),
                  static_cast<off_t>(options.bytes) * i)) {
      Die("write");
    }
    if (::fdatasync(fd) != 0) Die("fdatasync");
    micros.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start)
            .count());
  }
  ::close(fd);
  std::sort(micros.begin(), micros.end());
  return micros;
}

double Percentile(const std::vector<double>& sorted, double p) {
  size_t i = static_cast<size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[i];
}

int Main(int argc, char** argv) {
  Options options;
  const char* tmp = std::getenv("TMPDIR");
  options.dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      options.dir = argv[++i];
    } else if (arg == "--writes" && i + 1 < argc) {
      options.writes = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--bytes" && i + 1 < argc) {
      options.bytes = static_cast<size_t>(std::max(1, std::atoi(argv[++i])));
    } else if (arg == "--gap-us" && i + 1 < argc) {
      options.gap_us = std::max(0, std::atoi(argv[++i]));
    } else if (arg == "--all") {
      options.all = true;
    } else {
      std::fprintf(stderr,
                   "usage: fdatasync_probe [--dir DIR] [--writes N] "
                   "[--bytes B] [--gap-us G] [--all]\n");
      return 2;
    }
  }
  std::vector<Mode> modes = {Mode::kZeroed};
  if (options.all) modes = {Mode::kAppend, Mode::kFallocate, Mode::kZeroed};
  double zeroed_p50 = 0;
  for (Mode mode : modes) {
    std::vector<double> micros = Measure(options, mode);
    std::printf("%-9s %d x (%zu B write + fdatasync, %d us apart): p50 %.0f "
                "us, p90 %.0f us, p99 %.0f us\n",
                Name(mode), options.writes, options.bytes, options.gap_us,
                Percentile(micros, 0.5), Percentile(micros, 0.9),
                Percentile(micros, 0.99));
    if (mode == Mode::kZeroed) zeroed_p50 = Percentile(micros, 0.5);
  }
  std::printf("fdatasync p50 %.0f us\n", zeroed_p50);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
