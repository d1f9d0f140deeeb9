#include "servers/supervisor/load_board.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <new>
#include <system_error>

namespace csgi::servers {

static_assert(std::atomic<pid_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "the board is shared between processes: its atomics must not hide a lock");

LoadBoard::LoadBoard() {
  void* memory = ::mmap(nullptr, sizeof(Slot) * max_slots, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
  slots_ = new (memory) Slot[max_slots];
}

LoadBoard::~LoadBoard() { ::munmap(slots_, sizeof(Slot) * max_slots); }

LoadBoard::Slot* LoadBoard::claim(pid_t pid, int capacity) {
  for (std::size_t i = 0; i < max_slots; ++i) {
    Slot& slot = slots_[i];
    pid_t free = 0;
    if (!slot.owner.compare_exchange_strong(free, pid)) continue;
    slot.load.store(0);
    slot.capacity.store(capacity);
    return &slot;
  }
  return nullptr;
}

void LoadBoard::release(pid_t pid) {
  for (std::size_t i = 0; i < max_slots; ++i) {
    Slot& slot = slots_[i];
    if (slot.owner.load() != pid) continue;
    slot.capacity.store(0);
    slot.owner.store(0);
  }
}

bool LoadBoard::another_has_room(const Slot* self) const {
  for (std::size_t i = 0; i < max_slots; ++i) {
    const Slot& slot = slots_[i];
    if (&slot == self || slot.owner.load(std::memory_order_relaxed) == 0) continue;
    int capacity = slot.capacity.load(std::memory_order_relaxed);
    if (capacity > 0 && slot.load.load(std::memory_order_relaxed) < capacity) return true;
  }
  return false;
}

}  // namespace csgi::servers
