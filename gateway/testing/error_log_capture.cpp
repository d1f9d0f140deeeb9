#include "gateway/testing/error_log_capture.hpp"

#include <algorithm>
#include <mutex>

#include <spdlog/sinks/base_sink.h>

#include "gateway/error_log.hpp"

namespace csgi::testing {

class ErrorLogCapture::Sink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    text_.append(msg.payload.data(), msg.payload.size());
    text_ += '\n';
  }
  void flush_() override {}

 private:
  std::string text_;
};

ErrorLogCapture::ErrorLogCapture() : sink_(std::make_shared<Sink>()) {
  error_log()->sinks().push_back(sink_);
}

ErrorLogCapture::~ErrorLogCapture() {
  auto& sinks = error_log()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
}

std::string ErrorLogCapture::text() const { return sink_->text(); }

}  // namespace csgi::testing
