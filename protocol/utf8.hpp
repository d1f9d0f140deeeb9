// UTF-8 validation for WebSocket text messages and close reasons (RFC 6455
// 8.1): well-formed UTF-8 as RFC 3629 defines it, so no overlong forms, no
// surrogates and nothing above U+10FFFF.
#pragma once

#include <string_view>

namespace csgi::protocol {

// True when every byte of `text` belongs to a complete, well-formed sequence.
bool valid_utf8(std::string_view text);

}  // namespace csgi::protocol
