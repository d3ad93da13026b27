// Edits to the lines of a real file, read from a fuzz input, for the fuzz
// targets of line-based audit files (an export, the anchors): each edit is
// three bytes (what, which line, which other line or where), and a fourth
// for a changed byte's value; what: drop the line, repeat it before the
// other, swap the two, change a byte, cut the line.
#ifndef LIENTHONG_TESTS_FUZZ_LINE_EDITS_H_
#define LIENTHONG_TESTS_FUZZ_LINE_EDITS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

// Applies up to `count` edits read from `data` from `at` on to `lines` (not
// empty); returns where the edits end.
inline size_t EditLines(std::vector<std::string>& lines, const uint8_t* data,
                        size_t size, size_t at, size_t count) {
  const size_t end = at + 4 * count;
  for (; at + 3 <= size && at < end; at += 4) {
    const size_t which = data[at + 1] % lines.size();
    const size_t other = data[at + 2];
    std::string& line = lines[which];
    switch (data[at] % 5) {
      case 0:
        if (lines.size() > 1)
          lines.erase(lines.begin() + static_cast<long>(which));
        break;
      case 1:
        lines.insert(lines.begin() + static_cast<long>(other % lines.size()),
                     std::string(line));
        break;
      case 2:
        std::swap(line, lines[other % lines.size()]);
        break;
      case 3:
        if (!line.empty() && at + 3 < size) {
          line[other * 7 % line.size()] = static_cast<char>(data[at + 3]);
        }
        break;
      case 4:
        line.resize(line.empty() ? 0 : other * 7 % line.size());
        break;
    }
  }
  return at < size ? at : size;
}

#endif  // LIENTHONG_TESTS_FUZZ_LINE_EDITS_H_
