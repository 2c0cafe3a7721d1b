// The host caching allocator: alignment, reuse by size class, reference counts (a held block
// is never handed out again), the cache limit, zero-fill and poison, and concurrent use.
#include <cmath>
#include <cstring>
#include <set>
#include <thread>

#include "convkit/host_memory.h"
#include "test_util.h"

namespace hm = convkit::host_memory;

namespace {

bool aligned(const void* p, uintptr_t to) { return reinterpret_cast<uintptr_t>(p) % to == 0; }

void test_alignment_and_classes() {
  void* small = hm::acquire(100, false);
  void* large = hm::acquire(3 << 20, false);
  CHECK(aligned(small, 64), "small block %p is not 64-byte aligned", small);
  CHECK(aligned(large, 2 << 20), "large block %p is not 2 MiB aligned", large);
  CHECK(hm::block_size(small) == 512, "100 B rounds to 512, got %zu", hm::block_size(small));
  CHECK(hm::block_size(large) == size_t(4) << 20, "3 MiB rounds to 4 MiB, got %zu", hm::block_size(large));
  std::memset(large, 1, 3 << 20);  // every byte is usable
  hm::release(small);
  hm::release(large);
  CHECK(hm::block_size(small) == 0, "a released block is no longer live");
}

void test_reuse_and_refcount() {
  hm::empty_cache();
  void* a = hm::acquire(4096, false);
  void* b = hm::acquire(4096, false);
  CHECK(a != b, "two live blocks share memory");
  hm::retain(a);   // e.g. an async worker
  hm::release(a);  // the JS array goes away; the worker still holds it
  void* c = hm::acquire(4096, false);
  CHECK(c != a && c != b, "a block that is still held was handed out again");
  int64_t hits = hm::stats().cache_hits;
  hm::release(a);  // the worker finishes
  void* d = hm::acquire(4000, false);  // same size class
  CHECK(d == a, "the released block was not reused");
  CHECK(hm::stats().cache_hits == hits + 1, "reuse was not counted as a cache hit");
  for (void* p : {b, c, d}) hm::release(p);
}

void test_zero_and_poison() {
  hm::empty_cache();
  hm::set_poison(true);
  auto* p = static_cast<float*>(hm::acquire(1000 * sizeof(float), false));
  bool all_nan = true;
  for (int i = 0; i < 1000; ++i) all_nan = all_nan && std::isnan(p[i]);
  CHECK(all_nan, "poison mode hands out NaN-filled blocks");
  hm::release(p);
  auto* z = static_cast<float*>(hm::acquire(1000 * sizeof(float), true));
  CHECK(z == p, "expected the poisoned block back");
  bool all_zero = true;
  for (int i = 0; i < 1000; ++i) all_zero = all_zero && z[i] == 0.f;
  CHECK(all_zero, "a zero-filled block from the cache holds old values");
  hm::release(z);
  hm::set_poison(false);
}

void test_limit() {
  hm::empty_cache();
  hm::set_limit(5 << 20);
  void* a = hm::acquire(2 << 20, false);
  void* b = hm::acquire(2 << 20, false);
  CHECK(hm::acquire(2 << 20, false) == nullptr, "a third 2 MiB block exceeds the 5 MiB limit and must be refused");
  hm::release(a);
  CHECK(hm::stats().cached_bytes == 2 << 20, "a released block is cached under the limit");
  void* c = hm::acquire(100, false);  // fits beside the cached block: 4 MiB + 512 B
  hm::release(c);
  hm::set_limit(1 << 20);  // below what is held: the cache empties, and a release goes to the system
  CHECK(hm::stats().cached_bytes == 0, "set_limit below the held bytes must empty the cache, %lld left",
        (long long)hm::stats().cached_bytes);
  hm::release(b);
  CHECK(hm::stats().cached_bytes == 0, "a block released over the limit must go to the system");
  hm::set_limit(int64_t(1) << 30);
  void* d = hm::acquire(5000, false);
  hm::release(d);
  CHECK(hm::stats().cached_bytes > 0, "a released block is cached under the limit");
  hm::empty_cache();
  CHECK(hm::stats().cached_bytes == 0, "empty_cache leaves %lld bytes", (long long)hm::stats().cached_bytes);
}

void test_limit_makes_room_from_other_classes() {
  hm::empty_cache();
  hm::set_limit(4 << 20);
  void* a = hm::acquire(4 << 20, false);
  hm::release(a);  // cached: 4 MiB of one class
  void* b = hm::acquire(2 << 20, false);  // another class: the 4 MiB block is freed to make room
  CHECK(b != nullptr, "the cache must give up blocks of other classes before refusing");
  hm::release(b);
  hm::set_limit(int64_t(1) << 30);
  hm::empty_cache();
}

void test_concurrent_use() {
  hm::empty_cache();
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &bad] {
      for (int i = 0; i < 2000; ++i) {
        size_t bytes = 64 * (1 + (i * 7 + t) % 40);
        auto* p = static_cast<uint32_t*>(hm::acquire(bytes, false));
        for (size_t j = 0; j < bytes / 4; ++j) p[j] = uint32_t(t);
        for (size_t j = 0; j < bytes / 4; ++j) bad[t] += p[j] != uint32_t(t);  // another thread wrote here
        hm::release(p);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) CHECK(bad[t] == 0, "thread %d saw %d words written by another thread", t, bad[t]);
  CHECK(hm::stats().allocated_bytes == 0, "blocks leaked: %lld bytes", (long long)hm::stats().allocated_bytes);
}

}  // namespace

int main() {
  test_alignment_and_classes();
  test_reuse_and_refcount();
  test_zero_and_poison();
  test_limit();
  test_limit_makes_room_from_other_classes();
  test_concurrent_use();
  return test::finish("test_host_memory");
}
