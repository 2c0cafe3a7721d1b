// Errors raised by the kernel core. The binding turns them into JS TypeError / RangeError;
// the core never aborts the process.
#pragma once
#include <stdexcept>
#include <string>

namespace convkit {

enum class ErrorKind { type, range };

struct Error : std::runtime_error {
  ErrorKind kind;
  Error(ErrorKind k, const std::string& message) : std::runtime_error(message), kind(k) {}
};

[[noreturn]] inline void throw_range(const std::string& message) { throw Error(ErrorKind::range, message); }
[[noreturn]] inline void throw_type(const std::string& message) { throw Error(ErrorKind::type, message); }

}  // namespace convkit
