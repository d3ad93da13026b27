// `lienthong`: the command-line tool for provincial operators and developers.
// Everything but the process boundary lives in lienthong_cli_lib.
#include <iostream>

#include "gateway/cli/app.h"

int main(int argc, char** argv) {
  lienthong::cli::QuietGrpcLogs();
  return lienthong::cli::RunCli(argc, argv, std::cout, std::cerr);
}
