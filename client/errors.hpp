// The exceptions an HTTP client request can end with (the httpx hierarchy).
//
// Every failure of a request is an HttpError; catch that to handle them all, or
// one of the leaves to handle a single cause. Each message names the URL and,
// for timeouts, the limit that was exceeded:
//   "ReadTimeout: no response from http://127.0.0.1:8000/api/ within 5.0 s"
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace csgi::client {

class HttpError : public std::runtime_error {
 public:
  HttpError(std::string kind, std::string url, const std::string& detail);
  const std::string& url() const noexcept { return url_; }
  // The leaf's name, e.g. "ReadTimeout".
  const std::string& kind() const noexcept { return kind_; }

 private:
  std::string kind_;
  std::string url_;
};

// The URL could not be parsed or uses a scheme the client does not speak.
class InvalidUrl : public HttpError {
 public:
  InvalidUrl(std::string url, const std::string& why);
};

// Failures while moving bytes (connect, read, write, the pool).
class TransportError : public HttpError {
 public:
  using HttpError::HttpError;
};

// No TCP connection could be made (refused, unreachable, name not resolved).
class ConnectError : public TransportError {
 public:
  ConnectError(std::string url, const std::string& why);
};

// The peer broke the protocol: a malformed or oversized head, a reset or a
// close before the response was complete.
class RemoteProtocolError : public TransportError {
 public:
  RemoteProtocolError(std::string url, const std::string& why);
};

// A limit of Timeouts was exceeded; `limit()` is the one that was.
class TimeoutError : public TransportError {
 public:
  TimeoutError(std::string kind, std::string url, const std::string& what_waited,
               std::chrono::milliseconds limit);
  std::chrono::milliseconds limit() const noexcept { return limit_; }

 private:
  std::chrono::milliseconds limit_;
};

// No TCP connection within Timeouts::connect.
class ConnectTimeout : public TimeoutError {
 public:
  ConnectTimeout(std::string url, std::chrono::milliseconds limit);
};

// No bytes of the response within Timeouts::read (before the head, or between
// two reads of the body).
class ReadTimeout : public TimeoutError {
 public:
  ReadTimeout(std::string url, std::chrono::milliseconds limit, bool mid_body);
};

// The request could not be written within Timeouts::write.
class WriteTimeout : public TimeoutError {
 public:
  WriteTimeout(std::string url, std::chrono::milliseconds limit);
};

// No connection of the origin's pool became free within Timeouts::pool.
class PoolTimeout : public TimeoutError {
 public:
  PoolTimeout(std::string url, std::chrono::milliseconds limit);
};

// follow_redirects was on and more than max_redirects redirects were answered.
class TooManyRedirects : public HttpError {
 public:
  TooManyRedirects(std::string url, int max_redirects);
};

// Thrown by Response::raise_for_status() for a 4xx or 5xx status.
class HttpStatusError : public HttpError {
 public:
  HttpStatusError(std::string url, int status);
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// "5.0 s", "0.15 s": how limits appear in messages.
std::string format_seconds(std::chrono::milliseconds limit);

}  // namespace csgi::client
