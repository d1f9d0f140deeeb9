// LoadBoard: how busy each worker of a supervisor is, in memory the workers
// share, so that a worker with no room leaves new connections to one that has
// some (spec/servers.md, "Workers share connections by capacity").
//
// The supervisor maps it before forking; every worker inherits the mapping.
// A loop worker claims a slot when it starts serving, with its capacity (its
// sync threads), and keeps the slot's load up to date: the connections it
// accepted whose first request has not started yet, plus the sync calls
// queued or running. Before taking a connection it checks its own room, and
// when it has none, whether another worker has. The supervisor frees the slot
// of a worker it reaps; a worker frees its own as it stops accepting.
//
// Lock-free: each field is an atomic word in the shared mapping, written by
// its owner and read by everyone. A reader may see a load a moment old; the
// cost of that is one connection taken by a busy worker, as without a board.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>

namespace csgi::servers {

class LoadBoard {
 public:
  struct Slot {
    std::atomic<pid_t> owner{0};  // 0: free
    std::atomic<int> capacity{0};  // 0: not taking connections
    std::atomic<int> load{0};
  };
  static constexpr std::size_t max_slots = 256;  // workers beyond it do not share

  // Maps the board (shared, anonymous). Throws std::system_error on failure.
  LoadBoard();
  ~LoadBoard();
  LoadBoard(const LoadBoard&) = delete;
  LoadBoard& operator=(const LoadBoard&) = delete;

  // In a worker: a free slot for `pid`, with `capacity` and no load; null
  // when every slot is taken.
  Slot* claim(pid_t pid, int capacity);
  // Frees `pid`'s slot, if it has one (the supervisor, reaping it).
  void release(pid_t pid);
  // True when a worker other than the owner of `self` has room: it takes
  // connections and its load is below its capacity.
  bool another_has_room(const Slot* self) const;

 private:
  Slot* slots_;
};

}  // namespace csgi::servers
