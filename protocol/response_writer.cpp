#include "protocol/response_writer.hpp"

#include <array>
#include <charconv>
#include <iterator>

#include "protocol/text.hpp"

namespace csgi::protocol {

namespace {

bool no_body_status(int status) { return status / 100 == 1 || status == 204 || status == 304; }

bool framing_field(std::string_view name) {
  return text::iequals_lower(name, "connection") || text::iequals_lower(name, "transfer-encoding");
}

// "HTTP/1.1 200 OK\r\n" for every status start() lets through, built once.
std::string_view status_line(int status) {
  static const auto lines = [] {
    std::array<std::string, 600> lines;
    for (int code = 200; code < 600; ++code)
      lines[code] = "HTTP/1.1 " + std::to_string(code) + " " + std::string(reason_phrase(code)) + "\r\n";
    return lines;
  }();
  return lines[static_cast<std::size_t>(status)];
}

// Writes pieces into space reserved for all of them at once.
class Cursor {
 public:
  explicit Cursor(char* at) : at_(at) {}
  void put(std::string_view text) { at_ = std::copy(text.begin(), text.end(), at_); }
  void put_field(std::string_view name, std::string_view value) { at_ = text::write_field_line(at_, name, value); }

 private:
  char* at_;
};

}  // namespace

ResponseWriter::ResponseWriter(std::string_view server_header, SharedDate& date)
    : server_header_(server_header), date_(&date) {}

void ResponseWriter::reset(const RequestFacts& request) {
  request_ = request;
  state_ = State::idle;
  framing_ = Framing::none;
  status_ = 0;
  headers_.clear();
  trailers_announced_ = false;
  trailers_written_ = false;
  keep_alive_ = request.keep_alive;
  app_date_ = false;
  app_server_ = false;
  app_framing_ = false;
  content_length_.reset();
  add_content_length_ = false;
  body_bytes_ = 0;
}

void ResponseWriter::start(ResponseHead&& start) {
  if (state_ != State::idle) throw ProtocolViolation("http.response.start sent twice");
  check_response_status(start.status);
  // Read into locals and kept only once every field passed: a rejected start
  // leaves nothing behind for the next one.
  std::optional<std::uint64_t> content_length;
  bool close = false, app_date = false, app_server = false, app_framing = false;
  for (const auto& field : start.headers) {
    check_response_field(field);
    const std::string_view name = field.first;
    if (text::iequals_lower(name, "content-length")) {
      content_length = text::parse_number(text::trim(field.second));
      if (!content_length) throw ProtocolViolation("invalid content-length: " + field.second);
    } else if (text::iequals_lower(name, "connection")) {
      close = close || text::list_contains(field.second, "close");
      app_framing = true;
    } else if (text::iequals_lower(name, "date")) {
      app_date = true;
    } else if (text::iequals_lower(name, "server")) {
      app_server = true;
    } else if (text::iequals_lower(name, "transfer-encoding")) {
      app_framing = true;
    }
  }
  content_length_ = content_length;
  if (close) keep_alive_ = false;
  app_date_ = app_date;
  app_server_ = app_server;
  app_framing_ = app_framing;
  status_ = start.status;
  headers_ = std::move(start.headers);
  trailers_announced_ = start.trailers;
  state_ = State::held;
}

void ResponseWriter::choose_framing(std::string_view first_chunk, bool more) {
  const bool no_body = request_.head_method || no_body_status(status_);
  // Trailers need chunked framing; the app's Content-Length wins over them.
  trailers_written_ = trailers_announced_ && request_.accepts_trailers &&
                      request_.version_minor >= 1 && !no_body && !content_length_;
  if (no_body) {
    framing_ = Framing::none;
    // HEAD answers with the length a GET would have, when the app tells it.
    if (request_.head_method && !no_body_status(status_) && !content_length_ && !more &&
        !first_chunk.empty()) {
      content_length_ = first_chunk.size();
      add_content_length_ = true;
    }
  } else if (content_length_) {
    framing_ = Framing::length;
  } else if (trailers_written_) {
    framing_ = Framing::chunked;
  } else if (!more) {
    framing_ = Framing::length;
    content_length_ = first_chunk.size();
    add_content_length_ = true;
  } else if (request_.version_minor >= 1) {
    framing_ = Framing::chunked;
  } else {
    // HTTP/1.0 has no chunked coding: the end of the body is the close.
    framing_ = Framing::close;
    keep_alive_ = false;
  }
}

ResponseWriter::CommonFields ResponseWriter::common_fields() {
  CommonFields fields;
  if (!app_date_) fields.date = date_->now();
  if (!app_server_) fields.server = server_header_;
  if (!keep_alive_)
    fields.connection = "connection: close\r\n";
  else if (request_.version_minor == 0)
    fields.connection = "connection: keep-alive\r\n";
  return fields;
}

void ResponseWriter::write_common_headers(std::string& out) {
  const CommonFields common = common_fields();
  if (!common.date.empty()) text::append_field(out, "date", common.date);
  if (!common.server.empty()) text::append_field(out, "server", common.server);
  out.append(common.connection);
}

void ResponseWriter::write_head(std::string_view first_chunk, bool more, std::string& out) {
  choose_framing(first_chunk, more);
  // Every response goes through here: the head is measured first and written
  // into `out` after growing it once.
  char digits[24];
  std::string_view length;
  if (add_content_length_) {
    const auto end = std::to_chars(std::begin(digits), std::end(digits), *content_length_).ptr;
    length = {digits, static_cast<std::size_t>(end - digits)};
  }
  const std::string_view status = status_line(status_);
  const CommonFields common = common_fields();
  const std::string_view chunked = framing_ == Framing::chunked ? "transfer-encoding: chunked\r\n" : "";
  // Framing and connection management are ours: the app's own fields for them
  // are left out.
  auto app_field = [this](const Header& field) { return !app_framing_ || !framing_field(field.first); };

  std::size_t size = status.size() + chunked.size() + common.connection.size() + 2;
  for (const auto& field : headers_)
    if (app_field(field)) size += text::field_line_size(field.first, field.second);
  if (add_content_length_) size += text::field_line_size("content-length", length);
  if (!common.date.empty()) size += text::field_line_size("date", common.date);
  if (!common.server.empty()) size += text::field_line_size("server", common.server);

  const std::size_t at = out.size();
  out.resize(at + size);
  Cursor cursor(out.data() + at);
  cursor.put(status);
  for (const auto& field : headers_)
    if (app_field(field)) cursor.put_field(field.first, field.second);
  if (add_content_length_) cursor.put_field("content-length", length);
  cursor.put(chunked);
  if (!common.date.empty()) cursor.put_field("date", common.date);
  if (!common.server.empty()) cursor.put_field("server", common.server);
  cursor.put(common.connection);
  cursor.put("\r\n");
  headers_.clear();
}

void ResponseWriter::write_chunk(std::string_view chunk, std::string& out) {
  if (chunk.empty()) return;  // an empty chunk would end the body
  text::append_number(out, chunk.size(), 16);
  out.append("\r\n").append(chunk).append("\r\n");
}

void ResponseWriter::body(std::string_view chunk, bool more, std::string& out) {
  if (state_ == State::idle) throw ProtocolViolation("http.response.body before http.response.start");
  if (state_ == State::trailers || state_ == State::complete)
    throw ProtocolViolation("http.response.body after the final body");
  if (framing_ == Framing::length && head_written() && body_bytes_ + chunk.size() > *content_length_) {
    keep_alive_ = false;
    throw ProtocolViolation("response body longer than its content-length");
  }
  if (state_ == State::held) {
    write_head(chunk, more, out);
    if (framing_ == Framing::length && chunk.size() > *content_length_) {
      keep_alive_ = false;
      throw ProtocolViolation("response body longer than its content-length");
    }
    state_ = State::body;
  }
  body_bytes_ += chunk.size();
  switch (framing_) {
    case Framing::none: break;
    case Framing::length:
    case Framing::close: out.append(chunk); break;
    case Framing::chunked: write_chunk(chunk, out); break;
  }
  if (!more) finish_body(out);
}

void ResponseWriter::finish_body(std::string& out) {
  if (framing_ == Framing::length && body_bytes_ < *content_length_) {
    // The peer would wait for the missing bytes: this connection cannot be reused.
    keep_alive_ = false;
    state_ = State::complete;
    throw ProtocolViolation("response body shorter than its content-length");
  }
  if (framing_ == Framing::chunked) out.append(trailers_written_ ? "0\r\n" : "0\r\n\r\n");
  state_ = trailers_announced_ ? State::trailers : State::complete;
}

void ResponseWriter::trailers(const Headers& fields, bool more, std::string& out) {
  if (state_ != State::trailers) {
    throw ProtocolViolation(trailers_announced_
                                ? "http.response.trailers before the final body"
                                : "http.response.trailers not announced in http.response.start");
  }
  for (const auto& field : fields) check_response_field(field);
  if (trailers_written_) {
    for (const auto& [name, value] : fields) text::append_field(out, name, value);
    if (!more) out.append("\r\n");
  }
  if (!more) state_ = State::complete;
}

void ResponseWriter::error(int status, std::string& out) {
  if (head_written()) throw ProtocolViolation("error response after the response started");
  const std::string_view reason = reason_phrase(status);
  status_ = status;
  keep_alive_ = false;
  out.append("HTTP/1.1 ");
  text::append_number(out, static_cast<std::uint64_t>(status));
  out.push_back(' ');
  out.append(reason);
  out.append("\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ");
  text::append_number(out, reason.size());
  out.append("\r\n");
  app_date_ = app_server_ = false;
  write_common_headers(out);
  out.append("\r\n").append(reason);
  state_ = State::complete;
}

}  // namespace csgi::protocol
