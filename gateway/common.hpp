// Types shared by both app interfaces (spec/async.md, spec/sync.md).
#pragma once

#include <any>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csgi {

// The version of spec/ that these types implement.
inline constexpr std::string_view spec_version = "1.0";

// One header field. Names given to an app are lower-case (the server lower-cases
// them once); order and duplicates are kept as they arrived.
using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;

// The first value of `name` (compared case-insensitively), if any.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

// An address of a peer or of the listening socket. For a Unix socket `host` is
// the socket's path and `port` is 0.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Application state that lifespan startup fills and every request sees
// (spec/lifespan.md, "State"). Thread-safe: a sync app may read it from several
// threads at once while an async one writes.
class State {
 public:
  template <class T>
  void set(const std::string& key, T value) {
    std::lock_guard lock(mutex_);
    values_[key] = std::make_shared<std::any>(std::move(value));
  }
  // The value stored under `key` if it is a T; nullptr otherwise.
  template <class T>
  std::shared_ptr<const T> get(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = values_.find(key);
    if (it == values_.end()) return nullptr;
    const T* value = std::any_cast<T>(it->second.get());
    if (!value) return nullptr;
    return std::shared_ptr<const T>(it->second, value);
  }
  bool contains(const std::string& key) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<std::any>> values_;
};

// Optional protocol extensions a server offers (spec/async.md, "Extensions").
struct Extensions {
  // The server sends trailers that the app announces in http.response.start.
  bool http_response_trailers = false;
};

// The standard reason phrase for `status` ("OK" for 200), or "" when unknown.
std::string_view reason_phrase(int status);

// what() of the exception `error` holds, for logs and tests: "" when `error` is
// null, a placeholder when the exception is not a std::exception.
std::string exception_message(std::exception_ptr error);

}  // namespace csgi
