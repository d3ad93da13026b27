#include "tests/national_sim/services.h"

namespace lienthong::sim {

std::string SimRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

SimReply JsonReply(int status, std::string body) {
  SimReply reply;
  reply.status = status;
  reply.content_type = "application/json; charset=utf-8";
  reply.body = std::move(body);
  return reply;
}

}  // namespace lienthong::sim
