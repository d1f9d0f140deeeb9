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

#include "runtime/trace.hpp"
#include <vector>

#include "runtime/http_types.hpp"

namespace csgi {

// The version of spec/ that these types implement.
inline constexpr std::string_view spec_version = "1.1";

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
  // websocket scopes: before websocket.accept, the app may refuse the
  // handshake with a whole HTTP response (http.response.start and
  // http.response.body), which the server sends as it is.
  bool websocket_http_response = false;
};

// what() of the exception `error` holds, for logs and tests: "" when `error` is
// null, a placeholder when the exception is not a std::exception.
std::string exception_message(std::exception_ptr error);

}  // namespace csgi
