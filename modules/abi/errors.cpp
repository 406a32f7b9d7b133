// The error categories of urine.abi (declared in errors.cppm): cold code, compiled once.
module;
#include <string>
#include <system_error>
module urine.abi;

namespace urine {

namespace {

class ring_error_category final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "urine.ring"; }
  [[nodiscard]] std::string message(int value) const override {
    switch (static_cast<ring_errc>(value)) {
      case ring_errc::timed_wait_needs_ext_arg:
        return "a timed wait needs IORING_FEAT_EXT_ARG (kernel 5.11); this kernel has none";
    }
    return "urine.ring error " + std::to_string(value);
  }
  // The kernel cannot do what was asked: ENOSYS, whatever the reason.
  [[nodiscard]] std::error_condition default_error_condition(int) const noexcept override {
    return std::errc::function_not_supported;
  }
};

}  // namespace

const std::error_category& ring_category() noexcept {
  static const ring_error_category instance;
  return instance;
}

}  // namespace urine
