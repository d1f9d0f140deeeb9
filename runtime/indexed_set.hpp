// An unordered set of objects that know their own place in it: insertion and
// removal cost O(1) and, once its vector has grown, no allocation. For sets
// on a hot path whose members come and go often (connections to watch, the
// waits a timer bounds). An object is in at most one such set at a time.
//
//   class Item : public IndexedSetMember { ... };
//   IndexedSet<Item> items;  items.insert(item); items.erase(item);
//
// Not thread-safe. Members must leave the set before they are destroyed.
#pragma once

#include <cstddef>
#include <vector>

namespace csgi {

template <class T>
class IndexedSet;

class IndexedSetMember {
 public:
  bool in_indexed_set() const { return position_ != absent; }

 private:
  template <class T>
  friend class IndexedSet;
  static constexpr std::size_t absent = static_cast<std::size_t>(-1);
  std::size_t position_ = absent;
};

template <class T>
class IndexedSet {
 public:
  void insert(T& item) {
    member(item).position_ = items_.size();
    items_.push_back(&item);
  }
  // Precondition: `item` is in this set. Swaps the last member into its place.
  void erase(T& item) {
    std::size_t position = member(item).position_;
    T* last = items_.back();
    items_[position] = last;
    member(*last).position_ = position;
    items_.pop_back();
    member(item).position_ = IndexedSetMember::absent;
  }
  void clear() {
    for (T* item : items_) member(*item).position_ = IndexedSetMember::absent;
    items_.clear();
  }
  bool empty() const { return items_.empty(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  static IndexedSetMember& member(T& item) { return item; }
  std::vector<T*> items_;
};

}  // namespace csgi
