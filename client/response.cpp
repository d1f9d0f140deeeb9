#include "client/response.hpp"

#include <boost/json/parse.hpp>

#include "client/errors.hpp"

namespace csgi::client {

std::optional<std::string_view> Response::header(std::string_view name) const {
  return find_header(headers, name);
}

boost::json::value Response::json() const {
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec) throw boost::system::system_error(ec, "response body from " + url + " is not JSON");
  return value;
}

bool Response::is_redirect() const noexcept {
  bool redirect_status = status == 301 || status == 302 || status == 303 || status == 307 ||
                         status == 308;
  return redirect_status && find_header(headers, "location").has_value();
}

const Response& Response::raise_for_status() const {
  if (status >= 400) throw HttpStatusError(url, status);
  return *this;
}

}  // namespace csgi::client
