// JoinOnExit: joins a test's helper thread however the test body ends. On
// a failed ASSERT the body returns early; a joinable std::thread destroyed
// then would end the program, so the thread is told to give up
// (`abandon`) and joined.
#ifndef LIENTHONG_TESTS_INTEGRATION_JOIN_ON_EXIT_H_
#define LIENTHONG_TESTS_INTEGRATION_JOIN_ON_EXIT_H_

#include <atomic>
#include <thread>

namespace lienthong::testing {

struct JoinOnExit {
  std::thread& thread;
  std::atomic<bool>& abandon;
  ~JoinOnExit() {
    abandon = true;
    if (thread.joinable()) thread.join();
  }
};

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_INTEGRATION_JOIN_ON_EXIT_H_
