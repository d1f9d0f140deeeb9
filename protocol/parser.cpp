#include "protocol/parser.hpp"

#include "protocol/text.hpp"

#include <algorithm>
#include <utility>

namespace csgi::protocol {

namespace {

Parser& self(llhttp_t* p) { return *static_cast<Parser*>(p->data); }

constexpr std::size_t initial_fields = 12;

using text::iequals_lower;
using text::trim;

// Every coding listed in a Transfer-Encoding value is "chunked": the only one we
// decode. (llhttp accepts any token list ending in chunked.)
bool only_chunked(std::string_view value) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    const auto coding = trim(value.substr(0, comma));
    if (!coding.empty() && !iequals_lower(coding, "chunked")) return false;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return true;
}

// llhttp errors we did not raise ourselves (ours are already in error_).
Error map_llhttp_error(llhttp_errno_t err) {
  switch (err) {
    case HPE_INVALID_VERSION: return Error::unsupported_version;
    case HPE_INVALID_TRANSFER_ENCODING: return Error::unsupported_transfer_coding;
    default: return Error::malformed;
  }
}

}  // namespace

void MessageHead::clear() {
  method.clear();
  target.clear();
  expect_continue = false;
  status = 0;
  reason.clear();
  version_major = 1;
  version_minor = 1;
  headers.clear();
  content_length.reset();
  chunked = false;
  keep_alive = true;
  upgrade = false;
}

Parser::Parser(ParserMode mode, ParserLimits limits) : mode_(mode), limits_(limits) {
  llhttp_settings_init(&settings_);
  settings_.on_message_begin = &Parser::on_message_begin;
  settings_.on_method = &Parser::on_method;
  settings_.on_url = &Parser::on_url;
  settings_.on_status = &Parser::on_status;
  settings_.on_version = &Parser::on_version;
  settings_.on_version_complete = &Parser::on_version_complete;
  settings_.on_header_field = &Parser::on_header_field;
  settings_.on_header_value = &Parser::on_header_value;
  settings_.on_header_value_complete = &Parser::on_header_value_complete;
  settings_.on_headers_complete = &Parser::on_headers_complete;
  settings_.on_body = &Parser::on_body;
  settings_.on_message_complete = &Parser::on_message_complete;
  llhttp_init(&parser_, mode == ParserMode::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings_);
  parser_.data = this;
}

// ---- callbacks --------------------------------------------------------------

int Parser::fail(Error e) {
  if (!error_) error_ = make_error_code(e);
  return HPE_USER;
}

int Parser::add_start_line_bytes(std::size_t n) {
  start_line_bytes_ += n;
  if (mode_ == ParserMode::request && start_line_bytes_ > limits_.request_line)
    return fail(Error::request_line_too_long);
  return 0;
}

int Parser::on_message_begin(llhttp_t* p) {
  self(p).started_ = true;
  return 0;
}

int Parser::on_method(llhttp_t* p, const char* at, std::size_t n) {
  auto& s = self(p);
  s.head_.method.append(at, n);
  // + 1 for the space after the method.
  return s.add_start_line_bytes(n + 1);
}

int Parser::on_url(llhttp_t* p, const char* at, std::size_t n) {
  auto& s = self(p);
  s.head_.target.append(at, n);
  return s.add_start_line_bytes(n);
}

int Parser::on_status(llhttp_t* p, const char* at, std::size_t n) {
  self(p).head_.reason.append(at, n);
  return 0;
}

int Parser::on_version(llhttp_t* p, const char* at, std::size_t n) {
  // + 6 for " HTTP/" before the digits llhttp reports (requests only count).
  auto& s = self(p);
  const std::size_t prefix = s.version_seen_ ? 0 : 6;
  s.version_seen_ = true;
  return s.add_start_line_bytes(n + prefix);
}

int Parser::on_version_complete(llhttp_t* p) {
  auto& s = self(p);
  if (p->http_major != 1 || p->http_minor > 1) {
    s.fail(Error::unsupported_version);
    return -1;
  }
  return 0;
}

Headers& Parser::fields() { return head_done_ ? trailers_ : head_.headers; }

int Parser::on_header_field(llhttp_t* p, const char* at, std::size_t n) {
  auto& s = self(p);
  if (!s.field_open_) {
    if (++s.fields_ > s.limits_.fields) return s.fail(Error::too_many_headers);
    // The list leaves with each request's scope, so each head starts one:
    // room for a browser's dozen fields at once, not a doubling per field.
    if (s.fields().capacity() == 0) s.fields().reserve(initial_fields);
    s.fields().emplace_back();
    s.field_open_ = true;
  }
  // Checked and lower-cased here, once, so nobody downstream compares
  // case-insensitively.
  auto& name = s.fields().back().first;
  const auto old = name.size();
  name.append(at, n);  // copied, then lowered in place: no zero-filling first
  char* out = name.data() + old;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text::lower_tchar_table[static_cast<unsigned char>(out[i])];
    if (c == 0) return s.fail(Error::malformed);
    out[i] = c;
  }
  return 0;
}

int Parser::on_header_value(llhttp_t* p, const char* at, std::size_t n) {
  auto& s = self(p);
  // A value arrives in several spans only when a feed ended inside it: the
  // previous span then ran to the end of its feed and this one starts at the
  // beginning of the next. Anything else is an obs-fold continuation line, which
  // llhttp accepts and we reject (RFC 9112 5.2 allows either).
  if (s.value_started_ && !(s.value_at_end_ && at == s.run_begin_)) return s.fail(Error::malformed);
  s.value_started_ = true;
  s.value_at_end_ = at + n == s.run_end_;
  s.fields().back().second.append(at, n);
  return 0;
}

int Parser::on_header_value_complete(llhttp_t* p) {
  auto& s = self(p);
  s.field_open_ = false;
  s.value_started_ = false;
  return 0;
}

int Parser::check_framing() {
  int hosts = 0;
  for (const auto& [field, value] : head_.headers) {
    // A string_view's == compares sizes first; a std::string's against a
    // literal compares bytes whatever the sizes.
    const std::string_view name = field;
    if (name == "transfer-encoding" && !only_chunked(value))
      return fail(Error::unsupported_transfer_coding);
    if (name == "host") ++hosts;
    if (mode_ == ParserMode::request && name == "expect" && iequals_lower(trim(value), "100-continue"))
      head_.expect_continue = true;
  }
  // RFC 9112 3.2: a server answers 400 to an HTTP/1.1 request without exactly
  // one Host field. HTTP/1.0 requests may omit it.
  if (mode_ == ParserMode::request && head_.version_minor >= 1 && hosts != 1)
    return fail(Error::bad_host);
  if (head_.content_length && limits_.body && *head_.content_length > *limits_.body)
    return fail(Error::body_too_large);
  return 0;
}

int Parser::on_headers_complete(llhttp_t* p) {
  auto& s = self(p);
  auto& head = s.head_;
  head.version_major = p->http_major;
  head.version_minor = p->http_minor;
  head.status = p->status_code;
  if (p->flags & F_CONTENT_LENGTH) head.content_length = p->content_length;
  head.chunked = (p->flags & F_CHUNKED) != 0;
  head.keep_alive = llhttp_should_keep_alive(p) != 0;
  head.upgrade = p->upgrade != 0;
  if (s.check_framing() != 0) return -1;
  // Responses that never have a body whatever their headers say (RFC 9112 6.3):
  // llhttp only knows this for read-until-close bodies, not for Content-Length.
  if (s.mode_ == ParserMode::response &&
      (s.no_body_ || head.status / 100 == 1 || head.status == 204 || head.status == 304))
    p->flags |= F_SKIPBODY;
  s.head_done_ = true;
  return HPE_PAUSED;
}

int Parser::on_body(llhttp_t* p, const char* at, std::size_t n) {
  auto& s = self(p);
  s.body_total_ += n;
  if (s.limits_.body && s.body_total_ > *s.limits_.body) return s.fail(Error::body_too_large);
  s.body_.append(at, n);
  return 0;
}

int Parser::on_message_complete(llhttp_t* p) {
  self(p).message_done_ = true;
  // Stop here: pipelined bytes stay unparsed until next_message().
  return HPE_PAUSED;
}

// ---- driving llhttp ---------------------------------------------------------

std::size_t Parser::run(std::string_view data) {
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
  }
  run_begin_ = data.data();
  run_end_ = data.data() + data.size();
  const llhttp_errno_t err = llhttp_execute(&parser_, data.data(), data.size());
  if (err == HPE_OK) return data.size();
  const char* pos = llhttp_get_error_pos(&parser_);
  const std::size_t used = pos ? static_cast<std::size_t>(pos - data.data()) : data.size();
  if (err == HPE_PAUSED) {
    paused_ = true;
  } else if (err == HPE_PAUSED_UPGRADE) {
    // Only reached after message_complete was reported; next_message resets.
    paused_ = true;
  } else if (!error_) {
    error_ = make_error_code(map_llhttp_error(err));
  }
  return used;
}

std::size_t Parser::execute(std::string_view data) {
  std::size_t used = 0;
  // After the head, the end of a body-less message needs no further byte: run
  // llhttp once even on empty input so it reaches message_complete.
  bool first = paused_;
  while ((used < data.size() || std::exchange(first, false)) && !error_ && !message_done_) {
    std::string_view rest = data.substr(used);
    const bool in_head = !head_done_;
    if (in_head) {
      // Feed at most what the head limit still allows, so an endless head is
      // cut off at the limit rather than after the whole read was buffered.
      const std::size_t budget = limits_.head - head_bytes_;
      if (budget == 0) {
        fail(version_seen_ || mode_ == ParserMode::response ? Error::head_too_large
                                                             : Error::request_line_too_long);
        break;
      }
      rest = rest.substr(0, budget);
    }
    const std::size_t n = run(rest);
    if (in_head) head_bytes_ += n;
    used += n;
    if (head_done_ && !head_reported_) break;  // report the head before any body
  }
  return used;
}

ParseResult Parser::report(std::size_t consumed) {
  if (error_) return {ParseStatus::error, consumed};
  if (head_done_ && !head_reported_) {
    head_reported_ = true;
    return {ParseStatus::head_complete, consumed};
  }
  if (message_done_) return {ParseStatus::message_complete, consumed};
  return {ParseStatus::need_data, consumed};
}

ParseResult Parser::feed(std::string_view data) {
  // Milestones already reached but not yet reported come first.
  if (error_ || (head_done_ && !head_reported_) || message_done_) return report(0);
  return report(execute(data));
}

ParseStatus Parser::finish() {
  if (error_) return ParseStatus::error;
  if (message_done_) return ParseStatus::message_complete;
  if (!started_) return ParseStatus::need_data;
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
  }
  const llhttp_errno_t err = llhttp_finish(&parser_);
  if (message_done_) return ParseStatus::message_complete;
  if (err == HPE_OK && !in_message()) return ParseStatus::need_data;
  fail(Error::partial_message);
  return ParseStatus::error;
}

void Parser::next_message() {
  if (head_.upgrade) {
    // We do not switch protocols: start over with a fresh HTTP parser state.
    llhttp_reset(&parser_);
    paused_ = false;
  }
  head_.clear();
  trailers_.clear();
  body_.clear();
  body_total_ = 0;
  head_bytes_ = 0;
  start_line_bytes_ = 0;
  fields_ = 0;
  field_open_ = false;
  version_seen_ = false;
  value_started_ = false;
  started_ = false;
  head_done_ = false;
  head_reported_ = false;
  message_done_ = false;
  no_body_ = false;
}

std::string_view Parser::error_reason() const {
  if (error_ && error_.category() == error_category() &&
      static_cast<Error>(error_.value()) != Error::malformed)
    return {};
  const char* reason = llhttp_get_error_reason(&parser_);
  return reason ? std::string_view(reason) : std::string_view();
}

}  // namespace csgi::protocol
