// The synthetic officer the tests make their lookups and identity checks
// for: the population database answers only on behalf of a named officer.
#ifndef LIENTHONG_TESTS_TESTING_TEST_OFFICER_H_
#define LIENTHONG_TESTS_TESTING_TEST_OFFICER_H_

#include "lienthong/v1/common.pb.h"

namespace lienthong::testing {

// ID 001085004321 (Hà Nội, male, 1985), unit 000.00.31.H31, account
// "test-officer". Synthetic.
inline lienthong::v1::Officer TestOfficer() {
  lienthong::v1::Officer officer;
  officer.set_citizen_id("001085004321");
  officer.set_unit_code("000.00.31.H31");
  officer.set_account("test-officer");
  return officer;
}

}  // namespace lienthong::testing

#endif  // LIENTHONG_TESTS_TESTING_TEST_OFFICER_H_
