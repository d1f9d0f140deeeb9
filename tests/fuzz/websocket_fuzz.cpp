// libFuzzer target: arbitrary bytes from a client into a server-side
// WebSocket connection with permessage-deflate agreed, in pieces whose sizes
// the input chooses, so that frames split across reads are explored too.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "protocol/websocket.hpp"

using namespace csgi::protocol::websocket;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  Connection connection(Settings{Role::server, 1 << 16, DeflateParams{}});
  const std::size_t piece = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!input.empty()) {
    connection.receive_data(input.substr(0, piece));
    input.remove_prefix(std::min(piece, input.size()));
    for (;;) {
      auto event = connection.next_event();
      if (std::holds_alternative<NeedData>(event)) break;
      if (std::holds_alternative<Closed>(event)) return 0;
      if (auto* message = std::get_if<Message>(&event))
        connection.send_message(message->type, message->data);  // echo, as an app would
    }
    connection.consume_output(connection.pending_output().size());
  }
  return 0;
}
