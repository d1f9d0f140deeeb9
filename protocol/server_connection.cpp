#include "protocol/server_connection.hpp"

#include <cstring>
#include <stdexcept>

#include "protocol/input_buffer.hpp"
#include "protocol/response_writer.hpp"
#include "protocol/text.hpp"

namespace csgi::protocol {

namespace {

ParserLimits parser_limits(const Limits& limits) {
  return {limits.request_line, limits.request_head, limits.request_fields, limits.request_body};
}

bool accepts_trailers(const Headers& headers) {
  for (const auto& [name, value] : headers)
    if (std::string_view(name) == "te" && text::list_contains(value, "trailers")) return true;
  return false;
}

}  // namespace

struct ServerConnection::Impl {
  Impl(const Limits& limits, ConnectionInfo info)
      : limits(limits),
        info(std::move(info)),
        parser(ParserMode::request, parser_limits(limits)),
        writer(this->info.server_header, this->info.date ? *this->info.date : process_date()) {}

  Limits limits;
  ConnectionInfo info;
  Parser parser;
  ResponseWriter writer;
  InputBuffer input;
  std::string output;
  std::size_t output_begin = 0;

  // The current request.
  bool head_ready = false;      // parsed, not yet handed out as RequestStarted
  bool active = false;          // handed out, start_next_request() not yet called
  bool body_delivered = false;  // the final http.request went to the app
  bool expect_continue = false;
  bool continue_sent = false;
  std::string method;
  std::string target;
  int version_minor = 1;

  // The connection.
  bool close_after = false;  // close_after_response() was called
  bool eof = false;
  bool closed = false;
  std::error_code error;
  bool error_reported = false;

  void parse();
  void fail();
  void start_request();
  bool drain_body();
  void check_can_send() const;
  bool body_full() const {
    return parser.has_head() && !parser.message_complete() &&
           parser.body().size() >= limits.body_high_water;
  }
};

// Advances the parser as far as the current state allows: up to the end of the
// head of a request not yet started, the body while the app's buffer has room,
// never past the end of the current request.
void ServerConnection::Impl::parse() {
  while (!error && !parser.message_complete() && !(head_ready && !active)) {
    std::string_view in = input.view();
    if (parser.has_head()) {
      if (body_full()) return;
      in = in.substr(0, limits.body_high_water - parser.body().size());
    }
    const auto [status, used] = parser.feed(in);
    input.consume(used);
    switch (status) {
      case ParseStatus::error: return fail();
      case ParseStatus::head_complete: head_ready = !active; break;
      case ParseStatus::message_complete:
      case ParseStatus::need_data: return;
    }
  }
}

// The request broke a rule: answer it (unless the app's response is already on
// its way) and stop using the connection.
void ServerConnection::Impl::fail() {
  error = parser.error();
  const int status = error_status(error);
  if (status != 0 && !writer.head_written()) writer.error(status, output);
}

void ServerConnection::Impl::start_request() {
  MessageHead& head = parser.head();
  method.assign(head.method);
  target.assign(head.target);
  version_minor = head.version_minor;
  expect_continue = head.expect_continue;
  continue_sent = false;
  body_delivered = false;
  writer.reset({std::string_view(head.method) == "HEAD", head.version_minor,
                head.keep_alive && !close_after, accepts_trailers(head.headers)});
  head_ready = false;
  active = true;
}

// Skips what is buffered of a body the app did not read. True if the request
// ended within the buffered input, so the next one can be parsed.
bool ServerConnection::Impl::drain_body() {
  while (!parser.message_complete()) {
    parser.body().clear();
    const auto [status, used] = parser.feed(input.view());
    input.consume(used);
    if (status == ParseStatus::error || status == ParseStatus::need_data) return false;
  }
  return true;
}

void ServerConnection::Impl::check_can_send() const {
  if (!active) throw ProtocolViolation("no request in progress on this connection");
  if (error || eof || closed) throw ClientDisconnected();
}

// ---- ServerConnection ---------------------------------------------------------

ServerConnection::ServerConnection(const Limits& limits, ConnectionInfo info)
    : impl_(std::make_unique<Impl>(limits, std::move(info))) {}

ServerConnection::~ServerConnection() = default;

void ServerConnection::receive_data(std::string_view bytes) { impl_->input.append(bytes); }

std::span<char> ServerConnection::input_space(std::size_t n) { return impl_->input.prepare(n); }

void ServerConnection::commit_input(std::size_t n) { impl_->input.commit(n); }

void ServerConnection::receive_eof() { impl_->eof = true; }

Event ServerConnection::next_event() {
  Impl& c = *impl_;
  if (!c.closed && !c.error && !c.eof) c.parse();
  if (c.error) {
    if (!std::exchange(c.error_reported, true)) return RequestError{error_status(c.error), c.error};
    c.closed = true;
  }
  // A peer that half-closes has gone as far as we are concerned (as uvicorn).
  if (c.eof) c.closed = true;
  if (c.closed) return Closed{};
  if (c.head_ready && !c.active) {
    c.start_request();
    return RequestStarted{&c.parser.head()};
  }
  return reading_paused() ? Event{Paused{}} : Event{NeedData{}};
}

bool ServerConnection::reading_paused() const {
  return impl_->input.size() >= impl_->limits.input_high_water || (impl_->active && impl_->body_full());
}

BodyEvent ServerConnection::receive_body() {
  Impl& c = *impl_;
  if (!c.active || c.error || c.eof || c.closed) return BodyGone{};
  if (c.body_delivered) {
    if (c.writer.complete()) return BodyGone{};
    return BodyPending{};
  }
  // The client waits for this before it sends the body: only now that the app
  // asks for it, and never once the response is under way.
  if (c.expect_continue && !c.continue_sent && !c.writer.head_written() &&
      !c.parser.message_complete()) {
    c.output.append("HTTP/1.1 100 Continue\r\n\r\n");
    c.continue_sent = true;
  }
  c.parse();
  if (c.error) return BodyGone{};
  std::string& body = c.parser.body();
  const bool more = !c.parser.message_complete();
  if (more && body.empty()) return BodyPending{};
  BodyChunk event{std::move(body), more};
  body.clear();
  c.body_delivered = !more;
  return event;
}

void ServerConnection::send_response_start(ResponseHead&& head) {
  impl_->check_can_send();
  impl_->writer.start(std::move(head));
}

void ServerConnection::send_response_body(std::string_view body, bool more_body) {
  Impl& c = *impl_;
  c.check_can_send();
  // A client that still waits for "100 Continue" will never send its body: say
  // that this connection ends with the response.
  if (!c.writer.head_written() && c.expect_continue && !c.continue_sent &&
      !c.parser.message_complete())
    c.writer.close_connection();
  c.writer.body(body, more_body, c.output);
}

void ServerConnection::send_response_trailers(const Headers& trailers, bool more_trailers) {
  impl_->check_can_send();
  impl_->writer.trailers(trailers, more_trailers, impl_->output);
}

void ServerConnection::send_error_response(int status) {
  Impl& c = *impl_;
  if (c.writer.head_written()) throw ProtocolViolation("error response after the response started");
  c.writer.error(status, c.output);
}

std::string_view ServerConnection::pending_output() const {
  return std::string_view(impl_->output).substr(impl_->output_begin);
}

void ServerConnection::consume_output(std::size_t n) {
  Impl& c = *impl_;
  c.output_begin = std::min(c.output_begin + n, c.output.size());
  if (c.output_begin == c.output.size()) {
    c.output.clear();
    c.output_begin = 0;
  }
}

bool ServerConnection::response_started() const { return impl_->writer.started(); }
bool ServerConnection::response_head_sent() const { return impl_->writer.head_written(); }
bool ServerConnection::response_complete() const { return impl_->writer.complete(); }
bool ServerConnection::peer_closed() const { return impl_->eof; }
bool ServerConnection::request_failed() const { return impl_->active && impl_->error; }
bool ServerConnection::head_in_progress() const {
  const Impl& c = *impl_;
  return !c.active && !c.head_ready && (c.input.size() > 0 || c.parser.in_message());
}

bool ServerConnection::keep_alive() const {
  const Impl& c = *impl_;
  return c.writer.keep_alive() && !c.close_after && !c.error && !c.eof && !c.closed;
}

bool ServerConnection::head_timed_out() {
  Impl& c = *impl_;
  if (c.active) throw std::logic_error("head_timed_out while a request is active");
  const bool answer = head_in_progress();
  if (answer) {
    c.writer.reset({});
    c.writer.error(408, c.output);
  }
  c.closed = true;
  return answer;
}

void ServerConnection::close_after_response() {
  Impl& c = *impl_;
  c.close_after = true;
  if (c.active && !c.writer.head_written()) c.writer.close_connection();
}

void ServerConnection::start_next_request() {
  Impl& c = *impl_;
  if (!c.active || !c.writer.complete())
    throw std::logic_error("start_next_request before the response is complete");
  c.active = false;
  if (!keep_alive()) {
    c.closed = true;
    return;
  }
  if (!c.parser.message_complete()) {
    // A client that waits for "100 Continue" sends its body at some unknown
    // later time, if ever: we cannot tell it from the next request.
    if ((c.expect_continue && !c.continue_sent) || !c.drain_body()) {
      c.closed = true;
      return;
    }
  }
  c.parser.next_message();
}

std::string_view ServerConnection::method() const { return impl_->method; }
std::string_view ServerConnection::raw_target() const { return impl_->target; }
std::string_view ServerConnection::http_version() const {
  return impl_->version_minor == 0 ? "1.0" : "1.1";
}
int ServerConnection::status() const { return impl_->writer.status(); }

void ServerConnection::shrink_buffers() {
  Impl& c = *impl_;
  c.input.release();
  if (c.output_begin == c.output.size()) std::string().swap(c.output), c.output_begin = 0;
  if (c.parser.body().empty()) std::string().swap(c.parser.body());
}

std::string ServerConnection::take_input() {
  Impl& c = *impl_;
  if (!c.active) throw std::logic_error("take_input without an active request");
  std::string rest(c.input.view());
  c.input.consume(rest.size());
  c.closed = true;
  return rest;
}

std::string error_response(int status, std::string_view server_header, SharedDate& date) {
  ResponseWriter writer(server_header, date);
  writer.reset({});
  std::string out;
  writer.error(status, out);
  return out;
}

}  // namespace csgi::protocol
