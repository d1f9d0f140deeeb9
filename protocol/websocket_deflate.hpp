// permessage-deflate (RFC 7692) for WebSocket messages, on zlib: the
// parameters both ends agree on in the handshake, and one compressor and one
// decompressor per connection.
//
// A message is compressed as raw DEFLATE ending in a sync flush, whose final
// empty block (00 00 FF FF) is dropped on the wire and put back before
// inflating. Without context takeover, each message starts from an empty
// window.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace csgi::protocol::websocket {

// What the handshake agreed (RFC 7692 section 7.1). Window bits are 9 to 15:
// zlib cannot write raw DEFLATE with a 256-byte window, so an offer that
// demands 8 for the server's side is declined.
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
};

// Which end of the connection a codec serves: the server compresses with the
// server_* parameters, and the client with the client_* ones.
enum class Role : std::uint8_t { server, client };

// Server side: the first offer among the Sec-WebSocket-Extensions values
// `offers` ("permessage-deflate; client_max_window_bits, ...") that can be
// accepted, with the value of the response's Sec-WebSocket-Extensions field;
// nullopt when none can (the connection goes on without compression).
struct DeflateAgreement {
  DeflateParams params;
  std::string response;
};
std::optional<DeflateAgreement> negotiate_deflate(std::string_view offers);

// Client side: the offer a client sends, and the parameters the server's
// answer sets (nullopt: the answer is not a valid acceptance of that offer).
std::string_view deflate_offer();
std::optional<DeflateParams> parse_deflate_answer(std::string_view answer);

// One connection's compressor and decompressor. Not thread-safe.
class DeflateCodec {
 public:
  DeflateCodec(const DeflateParams& params, Role role);
  ~DeflateCodec();
  DeflateCodec(const DeflateCodec&) = delete;
  DeflateCodec& operator=(const DeflateCodec&) = delete;

  // The compressed payload of a whole message.
  std::string compress(std::string_view message);
  // The message of a whole compressed payload, into `out`; false when the
  // payload is not valid DEFLATE or inflates past `limit` bytes (`too_big`
  // then says which).
  bool decompress(std::string_view payload, std::uint64_t limit, std::string& out, bool& too_big);

 private:
  struct Streams;
  std::unique_ptr<Streams> streams_;
  bool reset_compressor_;    // no context takeover on our side
  bool reset_decompressor_;  // ... on the peer's
};

}  // namespace csgi::protocol::websocket
