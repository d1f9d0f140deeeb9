#include "client/url.hpp"

#include <algorithm>
#include <charconv>

#include "client/errors.hpp"
#include "runtime/ascii.hpp"

namespace csgi::client {
namespace {

// ASCII only, whatever the locale: schemes and host names are ASCII (a
// non-ASCII host is refused by is_host_char), and every URL goes through here.
char lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower_ascii);
  return out;
}

bool is_host_char(char c) {
  bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
}

// Splits "host:port" or "[v6]:port" into `url`; returns why it failed, or "".
std::string parse_authority(std::string_view authority, Url& url) {
  if (authority.find('@') != std::string_view::npos) return "user information is not supported";
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return "unterminated IPv6 address";
    host = authority.substr(1, close - 1);
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "junk after IPv6 address";
      port = rest.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return "no host";
  bool v6 = authority.front() == '[';
  for (char c : host)
    if (!is_host_char(c) && !(v6 && c == ':')) return "invalid character in host";
  url.host = lower(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
      return "invalid port";
    url.port = static_cast<std::uint16_t>(value);
  }
  return "";
}

// "[v6]" or the name as is: how the host appears in URLs and Host headers.
void append_host(std::string& out, const std::string& host) {
  bool v6 = host.find(':') != std::string::npos;
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
}

void append_port(std::string& out, std::uint16_t port) {
  char digits[8];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, port);
  out += ':';
  out.append(digits, end);
}

// The host and, unless it is http's default, the port: the Host header.
void append_host_header(std::string& out, const std::string& host, std::uint16_t port) {
  append_host(out, host);
  if (port != 80) append_port(out, port);
}

// Removes "." and ".." segments of an absolute path (RFC 3986 5.2.4).
std::string remove_dot_segments(std::string_view path) {
  std::string out;
  std::size_t start = 1;  // path starts with '/'
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto segment = path.substr(start, end - start);
    bool last = end == path.size();
    if (segment == "..") {
      auto cut = out.rfind('/');
      out.resize(cut == std::string::npos ? 0 : cut);
      if (last) out += '/';
    } else if (segment == ".") {
      if (last) out += '/';
    } else {
      out += '/';
      out += segment;
    }
    start = end + 1;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

// Built with one allocation each: they are made for every request.
std::string Url::origin() const {
  std::string out;
  out.reserve(scheme.size() + host.size() + 11);
  append_origin(out);
  return out;
}

void Url::append_origin(std::string& out) const {
  out += scheme;
  out += "://";
  append_host(out, host);
  append_port(out, port);
}

std::string Url::host_header() const {
  std::string out;
  out.reserve(host.size() + 8);
  append_host_header(out, host, port);
  return out;
}

std::string Url::to_string() const {
  std::string out;
  out.reserve(scheme.size() + host.size() + target.size() + 11);
  out += scheme;
  out += "://";
  append_host_header(out, host, port);
  out += target;
  return out;
}

Url parse_url(std::string_view text) {
  // The URL is copied into the exception only when there is one to throw.
  auto invalid = [text](const std::string& why) { return InvalidUrl(std::string(text), why); };
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) throw invalid("not an absolute URL");
  Url url;
  url.scheme = lower(text.substr(0, scheme_end));
  if (url.scheme == "https") throw invalid("https is not supported");
  if (url.scheme != "http") throw invalid("unsupported scheme '" + url.scheme + "'");
  auto rest = text.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));
  auto path_start = rest.find_first_of("/?");
  auto authority = rest.substr(0, path_start);
  if (auto why = parse_authority(authority, url); !why.empty()) throw invalid(why);
  std::string target(path_start == std::string_view::npos ? "" : rest.substr(path_start));
  if (target.empty() || target.front() == '?') target.insert(0, "/");
  for (char c : target)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      throw invalid("whitespace or control character in path");
  url.target = std::move(target);
  return url;
}

Url resolve_url(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return parse_url(location);
  if (location.starts_with("//")) return parse_url(base.scheme + ":" + std::string(location));
  location = location.substr(0, location.find('#'));
  Url url = base;
  if (location.empty()) return url;
  auto base_path = std::string_view(base.target).substr(0, base.target.find('?'));
  if (location.front() == '?') {
    url.target = std::string(base_path) + std::string(location);
    return url;
  }
  auto query_start = location.find('?');
  auto path = location.substr(0, query_start);
  auto query = query_start == std::string_view::npos ? "" : location.substr(query_start);
  std::string merged;
  if (path.front() == '/') {
    merged = path;
  } else {
    merged = std::string(base_path.substr(0, base_path.rfind('/') + 1)) + std::string(path);
  }
  url.target = remove_dot_segments(merged) + std::string(query);
  return parse_url(url.to_string());  // re-validate the characters
}

}  // namespace csgi::client
