#include "protocol/websocket_handshake.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <random>

#include "protocol/text.hpp"

namespace csgi::protocol::websocket {

namespace {

constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// SHA-1 (FIPS 180-4), for Sec-WebSocket-Accept only: the handshake's proof
// that the server read the key, not a security measure.
std::array<unsigned char, 20> sha1(std::string_view message) {
  std::uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string data(message);
  const std::uint64_t bits = static_cast<std::uint64_t>(message.size()) * 8;
  data.push_back(static_cast<char>(0x80));
  while (data.size() % 64 != 56) data.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) data.push_back(static_cast<char>(bits >> shift));
  auto rotl = [](std::uint32_t x, int n) { return (x << n) | (x >> (32 - n)); };
  for (std::size_t block = 0; block < data.size(); block += 64) {
    std::uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(data.data() + block + 4 * i);
      w[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
    }
    for (int i = 16; i < 80; ++i) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      std::uint32_t f, k;
      if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
      else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
      else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      else f = b ^ c ^ d, k = 0xCA62C1D6;
      const std::uint32_t t = rotl(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rotl(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  std::array<unsigned char, 20> digest;
  for (int i = 0; i < 20; ++i) digest[i] = static_cast<unsigned char>(h[i / 4] >> (24 - 8 * (i % 4)));
  return digest;
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out;
  for (std::size_t i = 0; i < size; i += 3) {
    std::uint32_t n = std::uint32_t{data[i]} << 16;
    if (i + 1 < size) n |= std::uint32_t{data[i + 1]} << 8;
    if (i + 2 < size) n |= data[i + 2];
    out.push_back(base64_alphabet[(n >> 18) & 63]);
    out.push_back(base64_alphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < size ? base64_alphabet[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < size ? base64_alphabet[n & 63] : '=');
  }
  return out;
}

// 16 bytes in base64: 22 characters of the alphabet, then "==".
bool valid_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (char c : key.substr(0, 22))
    if (!std::strchr(base64_alphabet, c) || c == '\0') return false;
  return true;
}

// Every value of `name`, joined by ", " (a list split over several fields).
std::string joined(const Headers& headers, std::string_view name) {
  std::string out;
  for (const auto& [field, value] : headers) {
    if (!ascii::iequals_lower(field, name)) continue;
    if (!out.empty()) out += ", ";
    out += value;
  }
  return out;
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> items;
  while (!value.empty()) {
    const auto comma = value.find(',');
    auto item = text::trim(value.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return items;
}

Refusal refuse(std::string reason) { return Refusal{400, {}, std::move(reason)}; }

}  // namespace

bool is_upgrade_request(const MessageHead& head) {
  auto upgrade = find_header(head.headers, "upgrade");
  return upgrade && text::list_contains(*upgrade, "websocket");
}

std::variant<Upgrade, Refusal> check_upgrade(const MessageHead& head) {
  if (head.method != "GET") return refuse("a WebSocket handshake must be a GET");
  if (head.version_minor < 1) return refuse("a WebSocket handshake needs HTTP/1.1");
  if (!text::list_contains(joined(head.headers, "connection"), "upgrade"))
    return refuse("Connection does not name upgrade");
  if ((head.content_length && *head.content_length > 0) || head.chunked)
    return refuse("a WebSocket handshake has no body");
  auto version = find_header(head.headers, "sec-websocket-version");
  if (!version || text::trim(*version) != "13")
    return Refusal{426, {{"sec-websocket-version", "13"}}, "unsupported WebSocket version"};
  auto key = find_header(head.headers, "sec-websocket-key");
  if (!key || !valid_key(text::trim(*key))) return refuse("missing or invalid Sec-WebSocket-Key");
  Upgrade upgrade;
  upgrade.key = text::trim(*key);
  upgrade.subprotocols = split_list(joined(head.headers, "sec-websocket-protocol"));
  upgrade.extensions = joined(head.headers, "sec-websocket-extensions");
  return upgrade;
}

std::string accept_key(std::string_view key) {
  std::string input(key);
  input += guid;
  auto digest = sha1(input);
  return base64(digest.data(), digest.size());
}

std::string accept_response(const Upgrade& upgrade, const Acceptance& acceptance,
                            std::string_view server_header) {
  std::string out = "HTTP/1.1 101 Switching Protocols\r\n";
  text::append_field(out, "upgrade", "websocket");
  text::append_field(out, "connection", "Upgrade");
  text::append_field(out, "sec-websocket-accept", accept_key(upgrade.key));
  if (acceptance.subprotocol) text::append_field(out, "sec-websocket-protocol", *acceptance.subprotocol);
  if (acceptance.deflate) text::append_field(out, "sec-websocket-extensions", acceptance.deflate->response);
  if (!server_header.empty()) text::append_field(out, "server", server_header);
  for (const auto& [name, value] : acceptance.headers) text::append_field(out, name, value);
  out += "\r\n";
  return out;
}

std::string make_key() {
  thread_local std::mt19937 generator{std::random_device{}()};
  unsigned char bytes[16];
  for (auto& byte : bytes) byte = static_cast<unsigned char>(generator());
  return base64(bytes, sizeof bytes);
}

std::string client_request(std::string_view host, std::string_view target, std::string_view key,
                           const std::vector<std::string>& subprotocols, bool offer_deflate,
                           const Headers& extra) {
  std::string out = "GET ";
  out.append(target.empty() ? "/" : target);
  out += " HTTP/1.1\r\n";
  text::append_field(out, "host", host);
  text::append_field(out, "upgrade", "websocket");
  text::append_field(out, "connection", "Upgrade");
  text::append_field(out, "sec-websocket-key", key);
  text::append_field(out, "sec-websocket-version", "13");
  if (!subprotocols.empty()) {
    std::string list;
    for (const auto& name : subprotocols) list += (list.empty() ? "" : ", ") + name;
    text::append_field(out, "sec-websocket-protocol", list);
  }
  if (offer_deflate) text::append_field(out, "sec-websocket-extensions", deflate_offer());
  for (const auto& [name, value] : extra) text::append_field(out, name, value);
  out += "\r\n";
  return out;
}

std::optional<Agreement> check_answer(const MessageHead& head, std::string_view key,
                                      const std::vector<std::string>& subprotocols,
                                      bool offered_deflate, std::string& error) {
  auto fail = [&error](std::string reason) {
    error = std::move(reason);
    return std::nullopt;
  };
  if (head.status != 101) return fail("the server answered " + std::to_string(head.status) + ", not 101");
  auto upgrade = find_header(head.headers, "upgrade");
  if (!upgrade || !text::list_contains(*upgrade, "websocket")) return fail("no Upgrade: websocket in the answer");
  if (!text::list_contains(joined(head.headers, "connection"), "upgrade"))
    return fail("no Connection: upgrade in the answer");
  auto accept = find_header(head.headers, "sec-websocket-accept");
  if (!accept || text::trim(*accept) != accept_key(key)) return fail("wrong Sec-WebSocket-Accept");
  Agreement agreement;
  if (auto protocol = find_header(head.headers, "sec-websocket-protocol")) {
    std::string chosen(text::trim(*protocol));
    bool offered = false;
    for (const auto& name : subprotocols) offered = offered || name == chosen;
    if (!offered) return fail("the server chose a subprotocol that was not offered");
    agreement.subprotocol = chosen;
  }
  std::string extensions = joined(head.headers, "sec-websocket-extensions");
  if (!extensions.empty()) {
    if (!offered_deflate) return fail("the server chose an extension that was not offered");
    agreement.deflate = parse_deflate_answer(extensions);
    if (!agreement.deflate) return fail("invalid permessage-deflate answer");
  }
  return agreement;
}

}  // namespace csgi::protocol::websocket
