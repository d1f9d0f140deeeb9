// A small Django-like router for mixed sync and async views.
//
//   web::Router router;
//   router.path("api/", api_view)                  // "api/" matches "/api/"
//         .path("items/<int:id>/", item_view);     // request.params["id"]
//   Application app = router.application("mysite");
//
// Patterns are relative to the root, without the leading '/'; a segment
// "<name>" captures any non-empty segment, "<int:name>" only digits. A request
// for "/api" when only "api/" exists is redirected (301) to "/api/", as
// Django's APPEND_SLASH does. No match: 404 with a JSON body.
//
// The router provides both forms natively. Async form: async views run on the
// loop; sync views run through wsgi_to_asgi on the server's SyncExecutor, so
// with one thread they serialise (Django's thread-sensitive behaviour, kept on
// purpose). Sync form: sync views run in the calling thread; async views run
// through asgi_to_wsgi, on a fresh loop per request.
//
// Routes are copied when a form is created; later path() calls do not change
// forms already made.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gateway/app.hpp"
#include "web/views.hpp"

namespace csgi::web {

class Router {
 public:
  Router& path(std::string pattern, AsyncView view);
  Router& path(std::string pattern, SyncView view);

  asgi::App as_async(SyncExecutor& sync_executor) const;
  wsgi::App as_sync() const;
  // Both forms, for a server or the CLI.
  Application application(std::string name) const;

  // The parsed form of a pattern; public for the tests of matching.
  class Pattern {
   public:
    explicit Pattern(std::string_view pattern);
    // The captures when `path` (with its leading '/') matches.
    std::optional<std::map<std::string, std::string>> match(std::string_view path) const;

   private:
    struct Segment {
      std::string text;  // the literal, or the capture's name
      bool capture = false;
      bool digits_only = false;
    };
    std::vector<Segment> segments_;
  };

  struct Route {
    Pattern pattern;
    AsyncView async_view;  // exactly one of the two is set
    SyncView sync_view;
  };

 private:
  std::vector<Route> routes_;
};

}  // namespace csgi::web
