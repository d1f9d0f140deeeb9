// The sync app interface (spec/sync.md) as C++ types.
//
// An app is a callable `Body App(Environ&, StartResponse&)`. The server calls it
// on a thread that may block, once per request. The app calls
// `start_response(status, headers)` before its body yields its first chunk, and
// returns a Body the server pulls chunk by chunk and always closes.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gateway/common.hpp"

namespace boost::asio {
class io_context;
}

namespace csgi::wsgi {

// A spare event loop that asgi_to_wsgi (gateway/adapters.hpp) reuses from one
// call to the next, so that a call does not pay for a new loop. The caller of
// the app owns it: a sync server that calls apps on threads of its own keeps
// one per thread or per connection and lends it to each call through
// Environ::loop_cache. Only asgi_to_wsgi touches `spare`, and it puts back
// only a loop that its call left empty. Lend it to one call at a time, and
// destroy it on a thread where no call is using it.
class LoopCache {
 public:
  LoopCache();
  ~LoopCache();
  LoopCache(const LoopCache&) = delete;
  LoopCache& operator=(const LoopCache&) = delete;

  std::unique_ptr<boost::asio::io_context> spare;
};

// The request body as a blocking stream (spec/sync.md, "Input stream").
// read_some blocks until at least one byte is available or the body has ended,
// and returns 0 only at the end. Reading past the end keeps returning 0.
class InputStream {
 public:
  virtual ~InputStream() = default;
  virtual std::size_t read_some(std::span<char> buffer) = 0;

  // The disconnect watch (spec/sync.md, "Disconnect watch"), optional: a
  // descriptor that becomes readable when the client may have gone, or -1 when
  // the server offers none. Valid until the app's Body is closed.
  virtual int disconnect_fd() const { return -1; }
  // Called once disconnect_fd() became readable, after the body has ended; true
  // when the client has gone. Never blocks; on false (the client sent more, such
  // as a pipelined request) the caller stops watching.
  virtual bool client_gone() { return false; }

  // Up to `limit` bytes (all of the rest by default); shorter only at the end.
  std::string read(std::size_t limit = static_cast<std::size_t>(-1));
  // Bytes up to and including the next '\n', or up to the end.
  std::string readline();
};

// An InputStream over bytes already in memory.
class StringInputStream : public InputStream {
 public:
  explicit StringInputStream(std::string data) : data_(std::move(data)) {}
  std::size_t read_some(std::span<char> buffer) override;

 private:
  std::string data_;
  std::size_t offset_ = 0;
};

// The request (spec/sync.md, "Environ"): the CGI variables as typed fields.
struct Environ {
  std::string request_method = "GET";   // REQUEST_METHOD
  std::string script_name;              // SCRIPT_NAME (the root path)
  std::string path_info = "/";          // PATH_INFO (decoded)
  std::string raw_path = "/";           // as sent, without the query string
  std::string query_string;             // QUERY_STRING
  std::string server_protocol = "HTTP/1.1";  // SERVER_PROTOCOL
  std::string url_scheme = "http";      // wsgi.url_scheme
  Headers headers;                      // HTTP_* and CONTENT_*: lower-case names, in order
  std::optional<Endpoint> remote;       // REMOTE_ADDR / REMOTE_PORT
  std::optional<Endpoint> server;       // SERVER_NAME / SERVER_PORT
  InputStream* input = nullptr;         // wsgi.input; never null when a server calls the app
  LoopCache* loop_cache = nullptr;      // lent to asgi_to_wsgi; null: a new loop per call
  std::shared_ptr<State> state;         // lifespan state, shared with every request
  Extensions extensions;
  TraceContext trace;                   // this request's span and its caller's (runtime/trace.hpp)
  bool multithread = true;              // wsgi.multithread
  bool multiprocess = false;            // wsgi.multiprocess
  bool run_once = false;                // wsgi.run_once

  // The first value of a request header, by case-insensitive name.
  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// Writes bytes to the response immediately (spec/sync.md, "The write callable").
// Blocks until the server has taken them. Kept for apps that must push; a Body is
// preferred.
using Write = std::function<void(std::string_view)>;

// start_response (spec/sync.md, "start_response"). Calling it again without
// exc_info throws std::logic_error; with exc_info it replaces status and headers
// if nothing has been sent yet, and otherwise rethrows exc_info.
class StartResponse {
 public:
  using Function = std::function<Write(int status, Headers headers, std::exception_ptr exc_info)>;
  explicit StartResponse(Function function) : function_(std::move(function)) {}
  Write operator()(int status, Headers headers, std::exception_ptr exc_info = nullptr) {
    return function_(status, std::move(headers), std::move(exc_info));
  }

 private:
  Function function_;
};

// The response body: a sequence of chunks the server pulls, then closes.
// close() runs once, whatever happens: explicitly by the server, or on
// destruction. Move-only.
class Body {
 public:
  struct Source {
    virtual ~Source() = default;
    // The next chunk, or nullopt at the end. May block; may throw.
    virtual std::optional<std::string> next() = 0;
    // Releases what the body holds. Called once.
    virtual void close() {}
    // True when the source knows that next() has no chunk left to give (it
    // would return nullopt). A server then sends the chunk it just pulled as
    // the last one, which lets a body of one chunk go out with a
    // Content-Length. False when it cannot tell; never true too early.
    virtual bool exhausted() const { return false; }
  };

  Body() = default;  // no chunks
  Body(std::string chunk);
  Body(const char* chunk) : Body(std::string(chunk)) {}
  Body(std::vector<std::string> chunks);
  explicit Body(std::unique_ptr<Source> source) : source_(std::move(source)) {}
  // Chunks from `next` until it returns nullopt; `on_close` runs at close.
  static Body generate(std::function<std::optional<std::string>()> next,
                       std::function<void()> on_close = {});

  Body(Body&&) noexcept = default;
  Body& operator=(Body&& other) noexcept;
  Body(const Body&) = delete;
  Body& operator=(const Body&) = delete;
  ~Body();

  std::optional<std::string> next();
  // Runs the source's close() once; rethrows what it throws (the server logs it).
  void close();
  bool closed() const { return closed_; }
  // True when next() is known to return nullopt: the body is closed, has no
  // source, or its source is exhausted().
  bool exhausted() const { return closed_ || !source_ || source_->exhausted(); }

 private:
  std::unique_ptr<Source> source_;
  bool closed_ = false;
};

using App = std::function<Body(Environ&, StartResponse&)>;

}  // namespace csgi::wsgi
