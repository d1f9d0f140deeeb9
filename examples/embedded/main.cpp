// A server of its own: `hello_server --port 8000 --workers 2`, or any other
// setting of `csgi serve` (`hello_server --help` lists them).
#include <string>

#include <csgi/cli/embed.hpp>
#include <csgi/web/router.hpp>

namespace {

csgi::Application make_app() {
  csgi::web::Router router;
  router.path("", csgi::web::SyncView([](csgi::web::Request request) {
    return csgi::web::text_response("Hello from an embedded server, " + request.method + "!\n");
  }));
  return router.application("hello-server");
}

}  // namespace

int main(int argc, char** argv) { return csgi::serve(argc, argv, make_app()); }
