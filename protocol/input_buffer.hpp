// The unparsed input of a connection, shared by the HTTP and the WebSocket
// connections of protocol/: reads land in it directly (prepare, then
// commit), the parser consumes from the front.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace csgi::protocol {

// Unparsed input: bytes [begin_, end_) of one allocation. Reads land in it
// directly (prepare/commit); it compacts before it grows and never zero-fills
// space a read is about to overwrite.
class InputBuffer {
 public:
  std::string_view view() const { return {data_.get() + begin_, end_ - begin_}; }
  // The same bytes, writable: a WebSocket frame is unmasked in place.
  std::span<char> span() { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }

  std::span<char> prepare(std::size_t n) {
    if (capacity_ - end_ < n && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, size());
      end_ -= begin_;
      begin_ = 0;
    }
    if (capacity_ - end_ < n) {
      const std::size_t capacity = std::max(capacity_ * 2, end_ + n);
      auto data = std::make_unique_for_overwrite<char[]>(capacity);
      if (end_ > 0) std::memcpy(data.get(), data_.get(), end_);
      data_ = std::move(data);
      capacity_ = capacity;
    }
    return {data_.get() + end_, capacity_ - end_};
  }
  void commit(std::size_t n) { end_ += std::min(n, capacity_ - end_); }
  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void append(std::string_view bytes) {
    if (bytes.empty()) return;
    std::memcpy(prepare(bytes.size()).data(), bytes.data(), bytes.size());
    commit(bytes.size());
  }
  void release() {
    if (size() > 0) return;
    data_.reset();
    capacity_ = begin_ = end_ = 0;
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace csgi::protocol
