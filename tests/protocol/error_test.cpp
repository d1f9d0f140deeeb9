// The error -> status table is explicit and complete.
#include "protocol/error.hpp"

#include <gtest/gtest.h>

#include <map>

namespace csgi::protocol {
namespace {

TEST(ErrorStatus, EveryErrorMapsToItsStatus) {
  const std::map<Error, int> expected{
      {Error::malformed, 400},
      {Error::request_line_too_long, 414},
      {Error::head_too_large, 431},
      {Error::too_many_headers, 431},
      {Error::body_too_large, 413},
      {Error::unsupported_transfer_coding, 501},
      {Error::unsupported_version, 505},
      {Error::bad_host, 400},
      {Error::partial_message, 0},
  };
  EXPECT_EQ(error_status_table().size(), expected.size());
  for (const auto& [error, status] : expected) {
    EXPECT_EQ(error_status(make_error_code(error)), status) << make_error_code(error).message();
  }
  for (const auto& row : error_status_table()) EXPECT_EQ(expected.at(row.error), row.status);
}

TEST(ErrorStatus, ForeignErrorsAreBadRequests) {
  EXPECT_EQ(error_status(std::make_error_code(std::errc::invalid_argument)), 400);
}

TEST(ErrorStatus, ErrorsConvertToErrorCodes) {
  const std::error_code ec = Error::body_too_large;
  EXPECT_EQ(ec.category().name(), std::string("csgi.http"));
  EXPECT_EQ(ec.message(), "body too large");
}

}  // namespace
}  // namespace csgi::protocol
