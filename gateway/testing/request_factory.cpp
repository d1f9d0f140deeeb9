#include "gateway/testing/request_factory.hpp"

#include "gateway/convert.hpp"
#include "runtime/ascii.hpp"

namespace csgi::testing {

namespace {

bool method_has_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

}  // namespace

asgi::Scope RequestFactory::scope(std::string_view method, std::string_view target,
                                  Headers headers, std::string_view body) const {
  asgi::Scope scope;
  scope.method = ascii::to_upper(std::string(method));
  std::size_t question = target.find('?');
  scope.raw_path = std::string(target.substr(0, question));
  if (scope.raw_path.empty()) scope.raw_path = "/";
  if (question != std::string_view::npos) scope.query_string = target.substr(question + 1);
  scope.path = percent_decode(scope.raw_path);
  for (auto& [name, value] : headers) name = ascii::to_lower(std::move(name));
  for (const auto& header : default_headers)
    if (!find_header(headers, header.first)) headers.push_back(header);
  bool streamed = find_header(headers, "transfer-encoding").has_value();
  if (!streamed && !find_header(headers, "content-length") &&
      (!body.empty() || method_has_body(scope.method)))
    headers.emplace_back("content-length", std::to_string(body.size()));
  scope.headers = std::move(headers);
  scope.client = client;
  scope.server = server;
  scope.state = state;
  return scope;
}

SyncRequest RequestFactory::environ(std::string_view method, std::string_view target,
                                    Headers headers, std::string body) const {
  SyncRequest request;
  request.environ = environ_from_scope(scope(method, target, std::move(headers), body));
  request.input = std::make_unique<wsgi::StringInputStream>(std::move(body));
  request.environ.input = request.input.get();
  return request;
}

}  // namespace csgi::testing
