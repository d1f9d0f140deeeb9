#include "client/errors.hpp"

#include <cstdio>

namespace csgi::client {

HttpError::HttpError(std::string kind, std::string url, const std::string& detail)
    : std::runtime_error(kind + ": " + detail), kind_(std::move(kind)), url_(std::move(url)) {}

InvalidUrl::InvalidUrl(std::string url, const std::string& why)
    : HttpError("InvalidUrl", url, "cannot request '" + url + "': " + why) {}

ConnectError::ConnectError(std::string url, const std::string& why)
    : TransportError("ConnectError", url, "cannot connect for " + url + ": " + why) {}

RemoteProtocolError::RemoteProtocolError(std::string url, const std::string& why)
    : TransportError("RemoteProtocolError", url, "bad response from " + url + ": " + why) {}

TimeoutError::TimeoutError(std::string kind, std::string url, const std::string& what_waited,
                           std::chrono::milliseconds limit)
    : TransportError(std::move(kind), url,
                     what_waited + " " + url + " within " + format_seconds(limit)),
      limit_(limit) {}

ConnectTimeout::ConnectTimeout(std::string url, std::chrono::milliseconds limit)
    : TimeoutError("ConnectTimeout", std::move(url), "no connection for", limit) {}

ReadTimeout::ReadTimeout(std::string url, std::chrono::milliseconds limit, bool mid_body)
    : TimeoutError("ReadTimeout", std::move(url),
                   mid_body ? "response body stalled from" : "no response from", limit) {}

WriteTimeout::WriteTimeout(std::string url, std::chrono::milliseconds limit)
    : TimeoutError("WriteTimeout", std::move(url), "request not sent to", limit) {}

PoolTimeout::PoolTimeout(std::string url, std::chrono::milliseconds limit)
    : TimeoutError("PoolTimeout", std::move(url), "no free pooled connection for", limit) {}

TooManyRedirects::TooManyRedirects(std::string url, int max_redirects)
    : HttpError("TooManyRedirects", url,
                "more than " + std::to_string(max_redirects) + " redirects from " + url) {}

HttpStatusError::HttpStatusError(std::string url, int status)
    : HttpError("HttpStatusError", url, "status " + std::to_string(status) + " from " + url),
      status_(status) {}

std::string format_seconds(std::chrono::milliseconds limit) {
  char text[32];
  double seconds = static_cast<double>(limit.count()) / 1000.0;
  // One decimal unless the limit needs more (150 ms is "0.15 s", not "0.1 s").
  if (limit.count() % 100 == 0)
    std::snprintf(text, sizeof text, "%.1f s", seconds);
  else
    std::snprintf(text, sizeof text, "%.3g s", seconds);
  return text;
}

}  // namespace csgi::client
