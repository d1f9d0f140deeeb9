#include "protocol/websocket_deflate.hpp"

#include <zlib.h>

#include <stdexcept>
#include <vector>

#include "protocol/text.hpp"

namespace csgi::protocol::websocket {

namespace {

constexpr std::string_view extension_name = "permessage-deflate";
constexpr char sync_tail[] = {'\x00', '\x00', '\xff', '\xff'};
constexpr std::size_t chunk = 16 * 1024;

// One extension of a Sec-WebSocket-Extensions value: its name and its
// parameters, each a name and a value ("" when it has none). Quoted values
// lose their quotes.
struct Extension {
  std::string_view name;
  std::vector<std::pair<std::string_view, std::string_view>> params;
};

std::vector<std::string_view> split(std::string_view value, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto at = value.find(separator);
    parts.push_back(text::trim(value.substr(0, at)));
    if (at == std::string_view::npos) return parts;
    value.remove_prefix(at + 1);
  }
}

std::vector<Extension> parse_extensions(std::string_view value) {
  std::vector<Extension> extensions;
  for (std::string_view item : split(value, ',')) {
    if (item.empty()) continue;
    auto parts = split(item, ';');
    Extension extension{parts.front(), {}};
    for (std::size_t i = 1; i < parts.size(); ++i) {
      const auto eq = parts[i].find('=');
      std::string_view name = text::trim(parts[i].substr(0, eq));
      std::string_view param_value;
      if (eq != std::string_view::npos) {
        param_value = text::trim(parts[i].substr(eq + 1));
        if (param_value.size() >= 2 && param_value.front() == '"' && param_value.back() == '"')
          param_value = param_value.substr(1, param_value.size() - 2);
      }
      extension.params.emplace_back(name, param_value);
    }
    extensions.push_back(std::move(extension));
  }
  return extensions;
}

// Window bits as sent: "8" to "15"; 0 when invalid.
int window_bits(std::string_view value) {
  auto number = text::parse_number(value);
  return number && *number >= 8 && *number <= 15 ? static_cast<int>(*number) : 0;
}

// The parameters of one permessage-deflate extension, as an offer (a client
// may name client_max_window_bits without a value) or as an answer. Each
// parameter at most once; anything unknown or malformed refuses it.
struct Parsed {
  DeflateParams params;
  bool server_bits_given = false;
  bool client_bits_given = false;  // with or without a value
  bool client_bits_valued = false;
};

std::optional<Parsed> parse_params(const Extension& extension, bool offer) {
  if (!text::iequals_lower(extension.name, extension_name)) return std::nullopt;
  Parsed parsed;
  bool seen[4] = {};
  for (auto [name, value] : extension.params) {
    int index = -1;
    if (name == "server_no_context_takeover" && value.empty()) {
      index = 0;
      parsed.params.server_no_context_takeover = true;
    } else if (name == "client_no_context_takeover" && value.empty()) {
      index = 1;
      parsed.params.client_no_context_takeover = true;
    } else if (name == "server_max_window_bits" && window_bits(value)) {
      index = 2;
      parsed.params.server_max_window_bits = window_bits(value);
      parsed.server_bits_given = true;
    } else if (name == "client_max_window_bits" && (window_bits(value) || (offer && value.empty()))) {
      index = 3;
      parsed.client_bits_given = true;
      parsed.client_bits_valued = !value.empty();
      if (!value.empty()) parsed.params.client_max_window_bits = window_bits(value);
    }
    if (index < 0 || seen[index]) return std::nullopt;
    seen[index] = true;
  }
  return parsed;
}

}  // namespace

std::optional<DeflateAgreement> negotiate_deflate(std::string_view offers) {
  for (const Extension& extension : parse_extensions(offers)) {
    auto parsed = parse_params(extension, true);
    // zlib's raw DEFLATE has no 256-byte window: we cannot honour 8 for our side.
    if (!parsed || parsed->params.server_max_window_bits < 9) continue;
    DeflateAgreement agreement{parsed->params, std::string(extension_name)};
    auto& response = agreement.response;
    if (parsed->params.server_no_context_takeover) response += "; server_no_context_takeover";
    if (parsed->params.client_no_context_takeover) response += "; client_no_context_takeover";
    if (parsed->server_bits_given)
      response += "; server_max_window_bits=" + std::to_string(parsed->params.server_max_window_bits);
    if (parsed->client_bits_valued)
      response += "; client_max_window_bits=" + std::to_string(parsed->params.client_max_window_bits);
    return agreement;
  }
  return std::nullopt;
}

std::string_view deflate_offer() { return "permessage-deflate; client_max_window_bits"; }

std::optional<DeflateParams> parse_deflate_answer(std::string_view answer) {
  auto extensions = parse_extensions(answer);
  if (extensions.size() != 1) return std::nullopt;
  auto parsed = parse_params(extensions.front(), false);
  // We compress with the client's window, which zlib cannot make 8 bits.
  if (!parsed || parsed->params.client_max_window_bits < 9) return std::nullopt;
  return parsed->params;
}

// ---- the codec --------------------------------------------------------------

// Both streams are made on first use: an idle connection holds neither
// (zlib's compressor alone takes some 256 KiB at full window).
struct DeflateCodec::Streams {
  z_stream deflater{};
  z_stream inflater{};
  bool deflater_ready = false;
  bool inflater_ready = false;
  int deflate_bits = 15;

  ~Streams() {
    if (deflater_ready) deflateEnd(&deflater);
    if (inflater_ready) inflateEnd(&inflater);
  }
  z_stream& compressor() {
    if (!deflater_ready) {
      if (deflateInit2(&deflater, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -deflate_bits, 8,
                       Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::bad_alloc();
      deflater_ready = true;
    }
    return deflater;
  }
  z_stream& decompressor() {
    if (!inflater_ready) {
      // A 15-bit window reads whatever smaller window the peer wrote with.
      if (inflateInit2(&inflater, -15) != Z_OK) throw std::bad_alloc();
      inflater_ready = true;
    }
    return inflater;
  }
};

DeflateCodec::DeflateCodec(const DeflateParams& params, Role role)
    : streams_(std::make_unique<Streams>()),
      reset_compressor_(role == Role::server ? params.server_no_context_takeover
                                             : params.client_no_context_takeover),
      reset_decompressor_(role == Role::server ? params.client_no_context_takeover
                                               : params.server_no_context_takeover) {
  streams_->deflate_bits =
      role == Role::server ? params.server_max_window_bits : params.client_max_window_bits;
}

DeflateCodec::~DeflateCodec() = default;

std::string DeflateCodec::compress(std::string_view message) {
  z_stream& z = streams_->compressor();
  std::string out;
  out.resize(deflateBound(&z, message.size()) + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  z.avail_in = static_cast<uInt>(message.size());
  std::size_t used = 0;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(out.size() - used);
    deflate(&z, Z_SYNC_FLUSH);
    used = out.size() - z.avail_out;
    if (z.avail_out != 0) break;  // all input taken and flushed
    out.resize(out.size() * 2);
  }
  out.resize(used >= 4 ? used - 4 : used);  // the sync flush's empty block
  if (reset_compressor_) deflateReset(&z);
  return out;
}

bool DeflateCodec::decompress(std::string_view payload, std::uint64_t limit, std::string& out,
                              bool& too_big) {
  z_stream& z = streams_->decompressor();
  too_big = false;
  out.clear();
  std::string_view pieces[] = {payload, std::string_view(sync_tail, sizeof sync_tail)};
  bool ok = true;
  for (std::string_view piece : pieces) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(piece.data()));
    z.avail_in = static_cast<uInt>(piece.size());
    // Until the piece is used up and inflate stopped short of a full chunk
    // (a full one may leave output pending).
    bool more = z.avail_in > 0;
    while (ok && more) {
      const std::size_t before = out.size();
      out.resize(before + chunk);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      z.avail_out = chunk;
      const int status = inflate(&z, Z_SYNC_FLUSH);
      out.resize(out.size() - z.avail_out);
      if (status == Z_STREAM_END) {
        // The peer ended the stream (BFINAL): the next message starts afresh.
        inflateReset(&z);
        z.avail_in = 0;
      } else if (status != Z_OK && status != Z_BUF_ERROR) {
        ok = false;
      }
      more = z.avail_in > 0 || (z.avail_out == 0 && status == Z_OK);
      if (out.size() > limit) {
        too_big = true;
        ok = false;
      }
    }
  }
  if (!ok || reset_decompressor_) inflateReset(&z);
  return ok;
}

}  // namespace csgi::protocol::websocket
