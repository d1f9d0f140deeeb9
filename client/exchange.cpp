#include "client/exchange.hpp"

#include <array>
#include <cstring>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>

#include "client/errors.hpp"
#include "runtime/ascii.hpp"
#include "runtime/use_tuple.hpp"
#include "protocol/text.hpp"

namespace csgi::client::detail {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Writes the request head into `head`, whose capacity the connection reuses.
void encode_head(const Request& request, std::string& head) {
  head.clear();
  head += request.method;
  head += ' ';
  head += request.url.target;
  head += " HTTP/1.1\r\nhost: ";
  head += request.url.host_header();
  head += "\r\n";
  bool has_agent = false, has_length = false;
  for (auto& [name, value] : request.headers) {
    has_agent = has_agent || ascii::iequals(name, "user-agent");
    has_length = has_length || ascii::iequals(name, "content-length") ||
                 ascii::iequals(name, "transfer-encoding");
    protocol::text::append_field(head, name, value);
  }
  if (!has_agent) head += "user-agent: csgi-client/" CSGI_VERSION "\r\n";
  // A body (or a method that carries one) is framed by its length.
  bool body_method = request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (!has_length && (!request.body.empty() || body_method)) {
    head += "content-length: ";
    head += std::to_string(request.body.size());
    head += "\r\n";
  }
  head += "\r\n";
}

// Moves the parser's decoded bytes to `out` without copying when it can.
void take_body(std::string& from, std::string& out) {
  if (out.empty())
    out.swap(from);
  else
    out += from;
  from.clear();
}

// Whether `ec` is the end of a wait that its deadline cut short. An abort
// that the deadline did not cause is the awaiting coroutine's cancellation,
// rethrown as such.
bool timed_out(const BoundedWait& wait, const error_code& ec) {
  if (ec != asio::error::operation_aborted) return false;
  if (wait.expired()) return true;
  throw boost::system::system_error(ec);
}

// The resolver a connection's deadline cancels along with its socket, while
// it resolves.
class Resolving {
 public:
  Resolving(Connection& connection, asio::ip::tcp::resolver& resolver) : connection_(connection) {
    connection_.resolving = &resolver;
  }
  ~Resolving() { connection_.resolving = nullptr; }
  Resolving(const Resolving&) = delete;
  Resolving& operator=(const Resolving&) = delete;

 private:
  Connection& connection_;
};

}  // namespace

Exchange::Exchange(Lease lease, const Request& request)
    : lease_(std::move(lease)), request_(request) {}

asio::awaitable<void> Exchange::start(Response& head) {
  if (!lease_.connection().socket.is_open()) co_await connect();
  co_await send();
  co_await read_head(head);
}

asio::awaitable<void> Exchange::connect() {
  auto& connection = lease_.connection();
  auto limit = request_.timeouts.connect;
  // Resolving and connecting share the one deadline.
  auto deadline = Deadline::Clock::now() + limit;
  error_code ec;
  auto address = asio::ip::make_address(request_.url.host, ec);
  asio::ip::tcp::resolver::results_type endpoints;
  if (ec) {
    asio::ip::tcp::resolver resolver(connection.socket.get_executor());
    Resolving resolving(connection, resolver);
    BoundedWait wait(connection.deadline, deadline);
    auto [resolve_error, results] = co_await resolver.async_resolve(
        request_.url.host, std::to_string(request_.url.port), use_tuple);
    // A lookup in progress is not interrupted by the cancel: once past the
    // deadline, its late answer is a timeout all the same.
    if (wait.expired()) throw ConnectTimeout(url(), limit);
    if (resolve_error == asio::error::operation_aborted) throw boost::system::system_error(resolve_error);
    if (resolve_error) throw ConnectError(url(), resolve_error.message());
    endpoints = std::move(results);
  } else {
    endpoints = asio::ip::tcp::resolver::results_type::create(
        asio::ip::tcp::endpoint(address, request_.url.port), request_.url.host, "");
  }
  // Each address in turn, as asio::async_connect does, but ending at the
  // deadline rather than moving on to the next address when it passes.
  error_code last_error = asio::error::not_found;
  for (const auto& entry : endpoints) {
    connection.socket.close(ec);
    BoundedWait wait(connection.deadline, deadline);
    auto [connect_error] = co_await connection.socket.async_connect(entry.endpoint(), use_tuple);
    if (!connect_error) {
      connection.socket.set_option(asio::ip::tcp::no_delay(true), ec);
      co_return;
    }
    if (timed_out(wait, connect_error)) throw ConnectTimeout(url(), limit);
    last_error = connect_error;
  }
  connection.socket.close(ec);
  throw ConnectError(url(), last_error.message());
}

asio::awaitable<void> Exchange::send() {
  auto& connection = lease_.connection();
  encode_head(request_, connection.head);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(connection.head),
                                            asio::buffer(request_.body)};
  BoundedWait wait(connection.deadline, Deadline::Clock::now() + request_.timeouts.write);
  auto [ec, n] = co_await asio::async_write(connection.socket, buffers, use_tuple);
  if (timed_out(wait, ec)) throw WriteTimeout(url(), request_.timeouts.write);
  if (ec && lease_.reused()) throw StaleConnection{};
  if (ec) throw RemoteProtocolError(url(), "connection lost while sending the request: " + ec.message());
}

asio::awaitable<std::size_t> Exchange::read_more(bool mid_body) {
  auto& connection = lease_.connection();
  if (connection.begin == connection.end) connection.begin = connection.end = 0;
  if (connection.end == connection.buffer.size()) {
    std::memmove(connection.buffer.data(), connection.buffer.data() + connection.begin,
                 connection.end - connection.begin);
    connection.end -= connection.begin;
    connection.begin = 0;
  }
  auto space = asio::buffer(connection.buffer.data() + connection.end,
                            connection.buffer.size() - connection.end);
  BoundedWait wait(connection.deadline, Deadline::Clock::now() + request_.timeouts.read);
  auto [ec, n] = co_await connection.socket.async_read_some(space, use_tuple);
  if (timed_out(wait, ec)) throw ReadTimeout(url(), request_.timeouts.read, mid_body);
  if (ec == asio::error::eof) co_return 0;
  if (ec && received_ == 0 && lease_.reused()) throw StaleConnection{};
  if (ec) throw RemoteProtocolError(url(), "connection lost while reading the response: " + ec.message());
  connection.end += n;
  received_ += n;
  co_return n;
}

void Exchange::fail_closed(const std::string& why) {
  if (received_ == 0 && lease_.reused()) throw StaleConnection{};
  throw RemoteProtocolError(url(), why);
}

asio::awaitable<void> Exchange::read_head(Response& head) {
  auto& connection = lease_.connection();
  auto& parser = connection.parser;
  parser.expect_no_body(request_.method == "HEAD");
  std::size_t head_bytes = 0;
  for (;;) {
    auto [status, used] = parser.feed(connection.unparsed());
    connection.begin += used;
    if (!parser.has_head()) head_bytes += used;
    if (head_bytes > request_.max_head)
      throw RemoteProtocolError(url(), "response head larger than " +
                                          std::to_string(request_.max_head) + " bytes");
    if (status == protocol::ParseStatus::error)
      throw RemoteProtocolError(url(), "malformed response (" + parser.error().message() + ")");
    bool interim = parser.has_head() && parser.head().status < 200 && parser.head().status != 101;
    if (status == protocol::ParseStatus::message_complete && interim) {
      // 1xx: an informational message with no body; the real one follows.
      parser.next_message();
      parser.expect_no_body(request_.method == "HEAD");
      head_bytes = 0;
      continue;
    }
    if (status == protocol::ParseStatus::head_complete && !interim) break;
    if (status != protocol::ParseStatus::need_data) continue;
    if (co_await read_more(false) == 0) {
      parser.finish();
      fail_closed("server closed the connection before the response head was complete");
    }
  }
  auto& parsed = parser.head();
  head.status = parsed.status;
  head.reason = parsed.reason;
  head.http_version = {static_cast<char>('0' + parsed.version_major), '.',
                       static_cast<char>('0' + parsed.version_minor)};
  head.headers = parsed.headers;
  head.url = url();
}

asio::awaitable<bool> Exchange::read_body(std::string& out) {
  if (complete_) co_return true;
  auto& connection = lease_.connection();
  auto& parser = connection.parser;
  std::size_t had = out.size();
  for (;;) {
    auto [status, used] = parser.feed(connection.unparsed());
    connection.begin += used;
    take_body(parser.body(), out);
    if (status == protocol::ParseStatus::message_complete) {
      finish(parser.head().keep_alive);
      co_return true;
    }
    if (status == protocol::ParseStatus::error)
      throw RemoteProtocolError(url(), "malformed response body (" + parser.error().message() + ")");
    if (connection.begin < connection.end) continue;
    if (out.size() > had) co_return false;  // hand over what we have before waiting
    if (co_await read_more(true) > 0) continue;
    // EOF: ends a body delimited by the close; anything else was cut short.
    if (parser.finish() == protocol::ParseStatus::message_complete) {
      take_body(parser.body(), out);
      finish(false);
      co_return true;
    }
    throw RemoteProtocolError(url(), "server closed the connection after " +
                                        std::to_string(parser.body_size()) +
                                        " body bytes, before the body was complete");
  }
}

void Exchange::finish(bool keep_alive) {
  auto& connection = lease_.connection();
  // Bytes after the response were not asked for: the connection is out of step.
  keep_alive = keep_alive && connection.begin == connection.end;
  connection.parser.next_message();
  complete_ = true;
  lease_.release(keep_alive);
}

}  // namespace csgi::client::detail
