// The admin endpoint's request-head parser, case by case.
#include "gateway/admin/http_request.h"

#include <string>

#include "gtest/gtest.h"

namespace lienthong::admin {
namespace {

struct Case {
  const char* name;
  std::string data;
  ParseStatus status;
  int http_status;  // kBad only
};

const Case kCases[] = {
    {"minimal", "GET /healthz HTTP/1.1\r\n\r\n", ParseStatus::kComplete, 0},
    {"bare LF", "GET /healthz HTTP/1.1\n\n", ParseStatus::kComplete, 0},
    {"fields", "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
     ParseStatus::kComplete, 0},
    {"not yet", "GET /healthz HTTP/1.1\r\nHost: a\r\n", ParseStatus::kIncomplete, 0},
    {"nothing", "", ParseStatus::kIncomplete, 0},
    {"half a line", "GE", ParseStatus::kIncomplete, 0},
    {"two spaces", "GET  /healthz HTTP/1.1\r\n\r\n", ParseStatus::kBad, 400},
    {"no path slash", "GET healthz HTTP/1.1\r\n\r\n", ParseStatus::kBad, 400},
    {"asterisk", "OPTIONS * HTTP/1.1\r\n\r\n", ParseStatus::kBad, 400},
    {"HTTP/2", "GET / HTTP/2.0\r\n\r\n", ParseStatus::kBad, 505},
    {"lower-case version", "GET / http/1.1\r\n\r\n", ParseStatus::kBad, 505},
    {"method not a token", "G(T / HTTP/1.1\r\n\r\n", ParseStatus::kBad, 400},
    {"field without colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", ParseStatus::kBad,
     400},
    {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
     ParseStatus::kBad, 400},
    {"folded line", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", ParseStatus::kBad, 400},
    {"NUL in a value", std::string("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 26),
     ParseStatus::kBad, 400},
    {"8-bit in the target", "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", ParseStatus::kBad,
     400},
    {"negative length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
     ParseStatus::kBad, 400},
    {"plus length", "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
     ParseStatus::kBad, 400},
    {"huge length",
     "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     ParseStatus::kBad, 400},
    {"repeated length",
     "POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n",
     ParseStatus::kBad, 400},
    {"too long, complete", "GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n",
     ParseStatus::kBad, 431},
    {"too long, incomplete", "GET / HTTP/1.1\r\nX: " + std::string(300, 'a'),
     ParseStatus::kBad, 431},
};

TEST(ParseRequestHeadTest, Cases) {
  for (const Case& c : kCases) {
    HttpRequest request;
    ParseResult result = ParseRequestHead(c.data, 128, &request);
    EXPECT_EQ(result.status, c.status) << c.name;
    if (c.status == ParseStatus::kBad) {
      EXPECT_EQ(result.http_status, c.http_status) << c.name;
    }
  }
}

TEST(ParseRequestHeadTest, ReadsWhatTheEndpointNeeds) {
  HttpRequest request;
  const std::string head =
      "POST /metrics?debug=1 HTTP/1.1\r\nCONTENT-LENGTH: 12\r\n"
      "Authorization: Bearer abc\r\nConnection: keep-alive, Close\r\n\r\n";
  ParseResult result = ParseRequestHead(head + "body follows", 8192, &request);
  ASSERT_EQ(result.status, ParseStatus::kComplete);
  EXPECT_EQ(result.head_bytes, head.size());
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/metrics");
  EXPECT_EQ(request.content_length, 12u);
  EXPECT_EQ(request.authorization, "Bearer abc");
  EXPECT_FALSE(request.keep_alive);
  EXPECT_FALSE(request.http10);
}

TEST(ParseRequestHeadTest, KeepAliveByVersion) {
  HttpRequest request;
  ASSERT_EQ(ParseRequestHead("GET / HTTP/1.0\r\n\r\n", 8192, &request).status,
            ParseStatus::kComplete);
  EXPECT_TRUE(request.http10);
  EXPECT_FALSE(request.keep_alive);
  ASSERT_EQ(ParseRequestHead("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                             8192, &request)
                .status,
            ParseStatus::kComplete);
  EXPECT_TRUE(request.keep_alive);
  ASSERT_EQ(ParseRequestHead("GET / HTTP/1.1\r\n\r\n", 8192, &request).status,
            ParseStatus::kComplete);
  EXPECT_TRUE(request.keep_alive);
}

TEST(ParseRequestHeadTest, TransferEncodingIsNoted) {
  HttpRequest request;
  ASSERT_EQ(ParseRequestHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                             8192, &request)
                .status,
            ParseStatus::kComplete);
  EXPECT_TRUE(request.has_transfer_encoding);
}

}  // namespace
}  // namespace lienthong::admin
