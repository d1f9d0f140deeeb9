#include "gateway/testing/client.hpp"

#include <utility>

#include "gateway/adapters.hpp"
#include "gateway/response_driver.hpp"

namespace csgi::testing {

namespace {

// Collects what a ResponseDriver sends, framed as a server would frame it;
// refuses non-empty chunks once the simulated client has gone.
class Collector {
 public:
  explicit Collector(const ClientOptions& options) : options_(options) {}

  wsgi::ResponseDriver::SendHead head() {
    return [this](int status, Headers headers) {
      response_.status = status;
      response_.headers = std::move(headers);
    };
  }
  wsgi::ResponseDriver::SendChunk chunk() {
    return [this](std::string_view data, bool more) {
      // The first chunk comes right after the head: the whole body is known
      // when it is also the last.
      if (std::exchange(first_chunk_, false))
        detail::add_framing_header(response_, more ? std::nullopt : std::optional(data.size()));
      if (data.empty()) return;
      if (options_.disconnect_after_chunks &&
          response_.chunks.size() >= *options_.disconnect_after_chunks) {
        disconnected_ = true;
        throw asgi::ClientDisconnected();
      }
      response_.body += data;
      response_.chunks.emplace_back(data);
    };
  }
  bool disconnected() const { return disconnected_; }
  TestResponse& response() { return response_; }

 private:
  const ClientOptions& options_;
  TestResponse response_;
  bool first_chunk_ = true;
  bool disconnected_ = false;
};

}  // namespace

Client::Client(wsgi::App app, Options options) : app_(std::move(app)), options_(options) {}

Client::Client(asgi::App app, Options options)
    : app_(asgi_to_wsgi(std::move(app))), options_(options) {}

Client::Client(const Application& app, Options options) : app_(app.as_sync()), options_(options) {}

TestResponse Client::get(std::string_view target, Headers headers) {
  return request("GET", target, std::move(headers));
}

TestResponse Client::post(std::string_view target, std::string body, Headers headers) {
  return request("POST", target, std::move(headers), std::move(body));
}

TestResponse Client::request(std::string_view method, std::string_view target, Headers headers,
                             std::string body) {
  SyncRequest request = factory.environ(method, target, std::move(headers), std::move(body));
  Collector collector(options_);
  wsgi::ResponseDriver driver(collector.head(), collector.chunk());
  try {
    driver.run(app_, request.environ);
  } catch (const asgi::ClientDisconnected&) {
    // The simulated client went away: for a server, the normal end of the request.
    if (!collector.disconnected()) throw;
  } catch (...) {
    if (options_.raise_app_exceptions || driver.head_sent()) throw;
    return detail::server_error_response();
  }
  return std::move(collector.response());
}

}  // namespace csgi::testing
