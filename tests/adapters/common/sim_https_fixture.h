// SimHttpsTest: the base of adapter tests that talk to the simulated
// national systems over HTTPS as the gateway does. Each test gets a fresh
// simulator (sim_) and a libcurl client (http_); the simulator's throwaway
// certificate is made once per test suite, in a scratch folder of the
// suite's own, so test programs running side by side never share one.
#ifndef LIENTHONG_TESTS_ADAPTERS_COMMON_SIM_HTTPS_FIXTURE_H_
#define LIENTHONG_TESTS_ADAPTERS_COMMON_SIM_HTTPS_FIXTURE_H_

#include <memory>
#include <string>

#include "adapters/common/http/http_client.h"
#include "gtest/gtest.h"
#include "tests/national_sim/self_signed_cert.h"
#include "tests/national_sim/sim_server.h"
#include "tests/testing/scratch_dir.h"

namespace lienthong::testing {

class SimHttpsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  // Starts sim_ and http_. A derived SetUp calls it first and returns when
  // it failed (HasFatalFailure()).
  void SetUp() override;

  // The simulator's certificate: the CA file its clients trust.
  static const std::string& CertFile() { return files_->cert_file; }

  std::unique_ptr<sim::SimServer> sim_;
  std::unique_ptr<adapters::CurlHttpClient> http_;

 private:
  static ScratchDir* scratch_;  // holds files_
  static sim::CertFiles* files_;
};

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_ADAPTERS_COMMON_SIM_HTTPS_FIXTURE_H_
