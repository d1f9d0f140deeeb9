// A web::Router's views get no body longer than the server's body limit
// (Config::limit_request_body), on every server kind: the server answers 413
// before the view is called, whether the body announces its length or comes
// in chunks.
#include <atomic>

#include <gtest/gtest.h>

#include "tests/conformance/fixture.hpp"
#include "web/router.hpp"

namespace csgi::conformance {
namespace {

class RouterBodyLimit : public ::testing::TestWithParam<ServerKind> {
 protected:
  RouterBodyLimit() {
    web::Router router;
    router.post("upload/", [this](web::Request request) {
      ++views_called_;
      return web::text_response(std::to_string(request.body.size()));
    });
    Config config;
    config.port = 0;
    config.limit_request_body = 16;
    config.access_log = false;
    server_ = std::make_unique<servers::BackgroundServer>(GetParam().factory, config,
                                                          router.application("upload"));
  }

  std::atomic<int> views_called_{0};
  std::unique_ptr<servers::BackgroundServer> server_;
};

TEST_P(RouterBodyLimit, BodyUpToTheLimitReachesTheView) {
  RawClient client(server_->port());
  client.send_request("POST", "/upload/", {}, std::string(16, 'x'));
  RawResponse response = client.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "16");
}

TEST_P(RouterBodyLimit, AnnouncedBodyOverTheLimitIs413WithoutCallingTheView) {
  RawClient client(server_->port());
  client.send_request("POST", "/upload/", {}, std::string(17, 'x'));
  EXPECT_EQ(client.read_response().status, 413);
  EXPECT_EQ(views_called_, 0);
}

// The body grows past the limit while the server reads it for the view: the
// client still gets its 413 (spec/sync.md), and the connection ends.
TEST_P(RouterBodyLimit, ChunkedBodyGrowingOverTheLimitIs413WithoutCallingTheView) {
  RawClient client(server_->port());
  client.send("POST /upload/ HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
              "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_EQ(client.read_response().status, 413);
  EXPECT_EQ(views_called_, 0);
}

INSTANTIATE_TEST_SUITE_P(ServerKinds, RouterBodyLimit,
                         ::testing::ValuesIn(std::vector<ServerKind>{server_kinds()[0],
                                                                     server_kinds()[1]}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace csgi::conformance
