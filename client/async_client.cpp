#include "client/async_client.hpp"

#include "client/connection.hpp"
#include "client/exchange.hpp"
#include "runtime/ascii.hpp"

namespace csgi::client {
namespace asio = boost::asio;

struct AsyncClient::Impl {
  Impl(asio::any_io_executor executor, ClientOptions options)
      : executor(executor), options(std::move(options)), pool(executor, this->options.limits) {}

  detail::Request prepare(std::string method, std::string url, Headers headers, std::string body,
                          const RequestOptions& request_options) const;
  // Starts the exchange and reads the head, retrying once on a new connection
  // when a kept-alive one turns out to have been closed by the server.
  awaitable<std::unique_ptr<detail::Exchange>> open(const detail::Request& request, Response& head);
  // The request the redirect in `response` asks for, per RFC 9110 15.4.
  detail::Request redirect(detail::Request request, const Response& response) const;
  // Opens `request`, following redirects when asked; `request` ends up as the
  // last one sent.
  awaitable<std::unique_ptr<detail::Exchange>> open_following(detail::Request& request,
                                                              const RequestOptions& options,
                                                              Response& head);

  asio::any_io_executor executor;
  ClientOptions options;
  detail::Pool pool;
};

struct StreamedResponse::Body {
  std::shared_ptr<AsyncClient::Impl> client;  // the pool outlives the lease
  std::unique_ptr<detail::Request> request;   // the exchange refers to it
  std::unique_ptr<detail::Exchange> exchange;
};

namespace {

bool idempotent(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || method == "TRACE";
}

awaitable<std::string> read_rest(detail::Exchange& exchange) {
  std::string body;
  while (!co_await exchange.read_body(body)) {
  }
  co_return body;
}

}  // namespace

void propagate_trace(Headers& headers, const TraceContext* trace) {
  if (!trace || !trace->valid() || find_header(headers, "traceparent")) return;
  headers.emplace_back("traceparent", trace->traceparent());
}

detail::Request AsyncClient::Impl::prepare(std::string method, std::string url, Headers headers,
                                           std::string body,
                                           const RequestOptions& request_options) const {
  detail::Request request;
  request.method = std::move(method);
  request.url = parse_url(url);
  request.headers = options.headers;
  request.headers.insert(request.headers.end(), headers.begin(), headers.end());
  request.headers.insert(request.headers.end(), request_options.headers.begin(),
                         request_options.headers.end());
  propagate_trace(request.headers, options.trace ? &*options.trace : current_trace());
  request.body = std::move(body);
  request.timeouts = request_options.timeouts.value_or(options.timeouts);
  request.max_head = options.max_response_head;
  return request;
}

awaitable<std::unique_ptr<detail::Exchange>> AsyncClient::Impl::open(const detail::Request& request,
                                                                     Response& head) {
  for (int attempt = 0;; ++attempt) {
    bool fresh = attempt > 0;
    auto lease = pool.try_acquire(request.url, fresh);
    if (!lease) lease = co_await pool.acquire(request.url, request.timeouts.pool, fresh);
    bool reused = lease.reused();
    auto exchange = std::make_unique<detail::Exchange>(std::move(lease), request);
    try {
      co_await exchange->start(head);
      co_return exchange;
    } catch (const detail::StaleConnection&) {
      if (!reused || attempt > 0 || !idempotent(request.method))
        throw RemoteProtocolError(request.url.to_string(),
                                  "server closed the kept-alive connection without answering");
    }
  }
}

detail::Request AsyncClient::Impl::redirect(detail::Request request, const Response& response) const {
  auto next = resolve_url(request.url, *response.header("location"));
  // 303, and 301/302 after a POST, turn into a GET without a body (what
  // browsers and httpx do); 307 and 308 repeat the request as it was.
  bool to_get = response.status == 303 ||
                ((response.status == 301 || response.status == 302) && request.method == "POST");
  if (to_get && request.method != "HEAD") {
    request.method = "GET";
    request.body.clear();
    std::erase_if(request.headers, [](const Header& header) {
      return ascii::iequals(header.first, "content-length") ||
             ascii::iequals(header.first, "content-type") ||
             ascii::iequals(header.first, "transfer-encoding");
    });
  }
  // Credentials are for the origin they were given to.
  if (next.origin() != request.url.origin())
    std::erase_if(request.headers, [](const Header& header) {
      return ascii::iequals(header.first, "authorization") || ascii::iequals(header.first, "cookie");
    });
  request.url = std::move(next);
  return request;
}

awaitable<std::unique_ptr<detail::Exchange>> AsyncClient::Impl::open_following(
    detail::Request& request, const RequestOptions& request_options, Response& head) {
  bool follow = request_options.follow_redirects.value_or(options.follow_redirects);
  int max_redirects = request_options.max_redirects.value_or(options.max_redirects);
  for (int redirects = 0;; ++redirects) {
    head = Response{};
    auto exchange = co_await open(request, head);
    if (!follow || !head.is_redirect()) co_return exchange;
    if (redirects == max_redirects) throw TooManyRedirects(head.url, max_redirects);
    co_await read_rest(*exchange);  // frees the connection for the next hop
    request = redirect(std::move(request), head);
  }
}

AsyncClient::AsyncClient(asio::any_io_executor executor, ClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

AsyncClient::~AsyncClient() {
  // Idle connections go now; leased ones close when their requests finish.
  impl_->pool.close_idle();
}

awaitable<Response> AsyncClient::request(std::string method, std::string url, Headers headers,
                                         std::string body, RequestOptions options) {
  auto impl = impl_;  // alive until this request is done, even if the client is not
  auto request = impl->prepare(std::move(method), std::move(url), std::move(headers),
                               std::move(body), options);
  Response response;
  auto exchange = co_await impl->open_following(request, options, response);
  // read_rest() inlined: one coroutine frame fewer per request.
  while (!co_await exchange->read_body(response.body)) {
  }
  co_return response;
}

awaitable<Response> AsyncClient::get(std::string url, RequestOptions options) {
  return request("GET", std::move(url), {}, {}, std::move(options));
}

awaitable<Response> AsyncClient::head(std::string url, RequestOptions options) {
  return request("HEAD", std::move(url), {}, {}, std::move(options));
}

awaitable<Response> AsyncClient::post(std::string url, std::string body, RequestOptions options) {
  return request("POST", std::move(url), {}, std::move(body), std::move(options));
}

awaitable<Response> AsyncClient::put(std::string url, std::string body, RequestOptions options) {
  return request("PUT", std::move(url), {}, std::move(body), std::move(options));
}

awaitable<Response> AsyncClient::delete_(std::string url, RequestOptions options) {
  return request("DELETE", std::move(url), {}, {}, std::move(options));
}

awaitable<StreamedResponse> AsyncClient::stream(std::string method, std::string url,
                                                Headers headers, std::string body,
                                                RequestOptions options) {
  StreamedResponse streamed;
  streamed.body_ = std::make_unique<StreamedResponse::Body>();
  auto& state = *streamed.body_;
  state.client = impl_;
  state.request = std::make_unique<detail::Request>(impl_->prepare(
      std::move(method), std::move(url), std::move(headers), std::move(body), options));
  state.exchange = co_await impl_->open_following(*state.request, options, streamed.head_);
  co_return streamed;
}

AsyncClient::PoolStats AsyncClient::pool_stats(const std::string& origin) const {
  return impl_->pool.stats(origin);
}

void AsyncClient::close_idle() { impl_->pool.close_idle(); }

const ClientOptions& AsyncClient::options() const { return impl_->options; }

asio::any_io_executor AsyncClient::get_executor() const { return impl_->executor; }

// ---- StreamedResponse ------------------------------------------------------

StreamedResponse::StreamedResponse() = default;
StreamedResponse::StreamedResponse(StreamedResponse&&) noexcept = default;
StreamedResponse& StreamedResponse::operator=(StreamedResponse&&) noexcept = default;
StreamedResponse::~StreamedResponse() = default;

awaitable<std::optional<std::string>> StreamedResponse::read_chunk() {
  if (!body_ || !body_->exchange || body_->exchange->complete()) co_return std::nullopt;
  std::string piece;
  bool done = co_await body_->exchange->read_body(piece);
  // The last read may bring bytes and the end together; report the bytes now
  // and the end on the next call.
  if (piece.empty() && done) co_return std::nullopt;
  co_return piece;
}

awaitable<std::string> StreamedResponse::read_all() {
  if (!body_ || !body_->exchange) co_return std::string{};
  co_return co_await read_rest(*body_->exchange);
}

void StreamedResponse::close() {
  if (body_) body_->exchange.reset();
}

awaitable<WebSocket> AsyncClient::websocket_connect(std::string url, WebSocketOptions options) {
  return client::websocket_connect(get_executor(), std::move(url), std::move(options));
}

}  // namespace csgi::client
