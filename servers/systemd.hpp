// systemd's socket activation (sd_listen_fds(3)) and service notices
// (sd_notify(3)), without libsystemd: each protocol is a few environment
// variables and, for notices, one datagram (spec/servers.md, "systemd").
#pragma once

#include <optional>
#include <string_view>

#include <sys/socket.h>
#include <sys/un.h>

namespace csgi::servers::systemd {

// The first descriptor systemd passes (SD_LISTEN_FDS_START).
inline constexpr int first_listen_fd = 3;

// The address of the datagram socket `path` names as NOTIFY_SOCKET does (a
// leading '@': an abstract socket), and its `length`. False when it does not
// fit a sockaddr_un.
bool unix_address(std::string_view path, sockaddr_un& address, socklen_t& length);

// The listening socket systemd passed to this process, when LISTEN_PID is
// this process and LISTEN_FDS counts at least one descriptor from 3: the
// only one, or with several, the one LISTEN_FDNAMES names `name` (a
// FileDescriptorName= of the socket unit). nullopt when the process was not
// socket-activated. Throws std::runtime_error when it was but `name` names
// none of the sockets, or several came and `name` is empty.
//
// Reads the variables once per process and unsets them, as
// sd_listen_fds(1) does, so that a child does not take them for its own; the
// descriptors get close-on-exec.
std::optional<int> listen_fd(std::string_view name);

// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...") to the socket
// NOTIFY_SOCKET names (a path, or an abstract socket for '@'). Does nothing
// when it is unset; a failure to send is logged at debug level and ignored:
// a service runs the same without a manager that listens.
//
// A supervisor started by an upgrade (USR2) first reports to the supervisor
// it replaces: NOTIFY_SOCKET is that one's socket, and the service manager's
// is in `manager_socket_variable` (empty: none). Once READY=1 is sent, later
// notices go to the manager's socket.
void notify(std::string_view state);

inline constexpr const char* manager_socket_variable = "CSGI_MANAGER_NOTIFY_SOCKET";

}  // namespace csgi::servers::systemd
