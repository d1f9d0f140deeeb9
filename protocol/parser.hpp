// One C++ wrapper over llhttp for both directions: requests (servers) and
// responses (the HTTP client).
//
// Sans-I/O: the caller feeds bytes and gets milestones back. The parser is
// strict (no llhttp leniency flags) and adds what llhttp lacks: size limits,
// lower-cased header names, a typed error (protocol/error.hpp), and a pause at
// the end of every message, so that pipelined bytes stay unparsed until the
// caller asks for the next message.
//
// Typical use:
//
//   Parser parser(ParserMode::request, limits);
//   for (;;) {
//     auto [status, used] = parser.feed(input);
//     input.remove_prefix(used);
//     switch (status) {
//       case ParseStatus::head_complete:    use(parser.head()); break;
//       case ParseStatus::message_complete: use(parser.body()); parser.next_message(); break;
//       case ParseStatus::need_data:        read more into input (or finish() at EOF)
//       case ParseStatus::error:            error_status(parser.error()) ...
//     }
//   }
//
// Decoded body bytes are appended to body() as they are parsed; the caller
// takes them whenever it likes (swap or clear). To bound the body buffer, feed
// at most N bytes at a time: the decoded body never grows by more than the
// bytes fed.
//
// Not thread-safe; not copyable or movable (llhttp keeps a pointer to it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <llhttp.h>

#include "protocol/error.hpp"
#include "protocol/limits.hpp"
#include "runtime/http_types.hpp"

namespace csgi::protocol {

enum class ParserMode { request, response };

// Limits for one message. Request-line and head limits apply to requests; the
// field and body limits to both directions.
struct ParserLimits {
  std::size_t request_line = default_limits::request_line;  // 414 above
  std::size_t head = default_limits::request_head;           // 431 above
  std::size_t fields = default_limits::request_fields;       // 431 above
  std::optional<std::uint64_t> body;      // decoded body bytes: 413 above; none = no limit
};

// The start line and header fields of one message.
struct MessageHead {
  // Requests.
  std::string method;        // as sent (llhttp accepts only upper-case known methods)
  std::string target;        // the request-target as sent, query included
  bool expect_continue = false;  // "Expect: 100-continue"

  // Responses.
  int status = 0;
  std::string reason;

  int version_major = 1;
  int version_minor = 1;
  Headers headers;           // names lower-cased once, values as sent (trimmed by llhttp)

  // Framing as llhttp understood it.
  std::optional<std::uint64_t> content_length;
  bool chunked = false;      // Transfer-Encoding: chunked
  bool keep_alive = true;    // per the version and the Connection header
  bool upgrade = false;      // Upgrade / CONNECT: bytes after the head are not HTTP

  // Empties every field; keeps the string capacities where it can.
  void clear();
};

enum class ParseStatus {
  need_data,         // every byte fed was used; the message is not complete yet
  head_complete,     // head() is filled (reported once per message)
  message_complete,  // body() and trailers() are complete; call next_message()
  error,             // error() says why; the parser is dead
};

struct ParseResult {
  ParseStatus status;
  std::size_t consumed;  // bytes of the fed data used; the rest must be fed again
};

class Parser {
 public:
  explicit Parser(ParserMode mode, ParserLimits limits = {});
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Parses from the front of `data` until the next milestone: the head is
  // complete, the message is complete, `data` is used up, or an error. A
  // milestone is reported once; call feed again (with the unused rest) to go on.
  // After message_complete, feed returns {message_complete, 0} until
  // next_message() is called: pipelined bytes are never parsed early.
  ParseResult feed(std::string_view data);

  // The peer closed the connection (read returned EOF). Completes a message
  // whose body runs until close (response mode) and returns message_complete;
  // need_data when no message had begun (a clean close); error with
  // Error::partial_message when a message was cut short.
  ParseStatus finish();

  // Response mode, before the head of the response arrives: the request was
  // HEAD (or CONNECT), so the response has no body whatever its headers say.
  // Applies to the current message only.
  void expect_no_body(bool no_body = true) { no_body_ = no_body; }

  // After message_complete: forget this message, keep the buffers' capacity,
  // and go on with the bytes after it.
  void next_message();

  const MessageHead& head() const { return head_; }
  MessageHead& head() { return head_; }
  // Decoded body bytes parsed and not yet taken by the caller.
  std::string& body() { return body_; }
  const std::string& body() const { return body_; }
  // Total decoded body bytes of the current message so far.
  std::uint64_t body_size() const { return body_total_; }
  // Trailer fields of a chunked message (names lower-cased).
  const Headers& trailers() const { return trailers_; }

  bool has_head() const { return head_done_; }
  bool message_complete() const { return message_done_; }
  // True between the first byte of a message and its completion.
  bool in_message() const { return started_ && !message_done_; }
  std::error_code error() const { return error_; }
  // llhttp's own description of the last error, for logs ("" if none).
  std::string_view error_reason() const;

  const ParserLimits& limits() const { return limits_; }

 private:
  static int on_message_begin(llhttp_t* p);
  static int on_method(llhttp_t* p, const char* at, std::size_t n);
  static int on_url(llhttp_t* p, const char* at, std::size_t n);
  static int on_status(llhttp_t* p, const char* at, std::size_t n);
  static int on_version(llhttp_t* p, const char* at, std::size_t n);
  static int on_version_complete(llhttp_t* p);
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n);
  static int on_header_value(llhttp_t* p, const char* at, std::size_t n);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static int on_body(llhttp_t* p, const char* at, std::size_t n);
  static int on_message_complete(llhttp_t* p);

  int fail(Error e);
  int add_start_line_bytes(std::size_t n);
  int check_framing();
  Headers& fields();
  std::size_t run(std::string_view data);
  std::size_t execute(std::string_view data);
  ParseResult report(std::size_t consumed);

  ParserMode mode_;
  ParserLimits limits_;
  llhttp_settings_t settings_{};
  llhttp_t parser_{};

  MessageHead head_;
  Headers trailers_;
  std::string body_;
  std::uint64_t body_total_ = 0;
  std::size_t head_bytes_ = 0;        // bytes of the current head consumed so far
  std::size_t start_line_bytes_ = 0;  // method + target + version
  std::size_t fields_ = 0;
  bool field_open_ = false;           // a header field's name/value is being received
  bool version_seen_ = false;         // the request line reached its version
  bool value_started_ = false;        // a span of the current field value was seen
  bool value_at_end_ = false;         // ... and it ran to the end of its feed
  const char* run_begin_ = nullptr;   // the bytes of the llhttp_execute in progress
  const char* run_end_ = nullptr;
  bool started_ = false;
  bool head_done_ = false;
  bool head_reported_ = false;
  bool message_done_ = false;
  bool paused_ = false;               // llhttp returned HPE_PAUSED; resume before executing
  bool no_body_ = false;
  std::error_code error_;
};

}  // namespace csgi::protocol
