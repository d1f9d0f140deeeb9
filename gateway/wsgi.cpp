#include "gateway/wsgi.hpp"

#include <algorithm>
#include <cstring>

namespace csgi::wsgi {

std::string InputStream::read(std::size_t limit) {
  std::string out;
  char buffer[16 * 1024];
  while (out.size() < limit) {
    std::size_t want = std::min(sizeof buffer, limit - out.size());
    std::size_t got = read_some(std::span<char>(buffer, want));
    if (got == 0) break;
    out.append(buffer, got);
  }
  return out;
}

std::string InputStream::readline() {
  std::string out;
  char c;
  while (read_some(std::span<char>(&c, 1)) == 1) {
    out.push_back(c);
    if (c == '\n') break;
  }
  return out;
}

std::size_t StringInputStream::read_some(std::span<char> buffer) {
  std::size_t n = std::min(buffer.size(), data_.size() - offset_);
  std::memcpy(buffer.data(), data_.data() + offset_, n);
  offset_ += n;
  return n;
}

namespace {

class ChunksSource : public Body::Source {
 public:
  explicit ChunksSource(std::vector<std::string> chunks) : chunks_(std::move(chunks)) {}
  std::optional<std::string> next() override {
    if (index_ == chunks_.size()) return std::nullopt;
    return std::move(chunks_[index_++]);
  }
  bool exhausted() const override { return index_ == chunks_.size(); }

 private:
  std::vector<std::string> chunks_;
  std::size_t index_ = 0;
};

class GeneratorSource : public Body::Source {
 public:
  GeneratorSource(std::function<std::optional<std::string>()> next, std::function<void()> on_close)
      : next_(std::move(next)), on_close_(std::move(on_close)) {}
  std::optional<std::string> next() override { return next_(); }
  void close() override {
    if (on_close_) on_close_();
  }

 private:
  std::function<std::optional<std::string>()> next_;
  std::function<void()> on_close_;
};

}  // namespace

Body::Body(std::string chunk) {
  std::vector<std::string> chunks;
  chunks.push_back(std::move(chunk));
  source_ = std::make_unique<ChunksSource>(std::move(chunks));
}

Body::Body(std::vector<std::string> chunks)
    : source_(std::make_unique<ChunksSource>(std::move(chunks))) {}

Body Body::generate(std::function<std::optional<std::string>()> next,
                    std::function<void()> on_close) {
  return Body(std::make_unique<GeneratorSource>(std::move(next), std::move(on_close)));
}

Body& Body::operator=(Body&& other) noexcept {
  if (this != &other) {
    try {
      close();
    } catch (...) {
    }
    source_ = std::move(other.source_);
    closed_ = other.closed_;
  }
  return *this;
}

std::optional<std::string> Body::next() {
  if (closed_ || !source_) return std::nullopt;
  return source_->next();
}

Body::~Body() {
  try {
    close();
  } catch (...) {
    // A destructor must not throw; servers call close() themselves and log.
  }
}

void Body::close() {
  if (closed_) return;
  closed_ = true;
  if (source_) source_->close();
}

}  // namespace csgi::wsgi
