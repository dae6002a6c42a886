// FunctionRef<R(Args...)>: a non-owning reference to something callable, two
// pointers wide. Unlike std::function it never allocates, so a hot call such
// as ThreadPool::parallel_for can take a lambda at no cost. The referenced
// callable must outlive the FunctionRef: use it for parameters, not storage.
#pragma once
#include <memory>
#include <type_traits>
#include <utility>

namespace nystrom {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  // Binds to any callable object or function (taken by reference; no copy).
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef> &&
                                                    std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f) noexcept {  // NOLINT: implicit on purpose, like std::function
    using Target = std::remove_reference_t<F>;
    if constexpr (std::is_function_v<Target>) {
      // A plain function: keep its address (a function pointer is not a void*).
      target_.function = reinterpret_cast<void (*)()>(&f);
      call_ = &call_function<Target>;
    } else {
      target_.object = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
      call_ = &call_object<Target>;
    }
  }

  R operator()(Args... args) const { return call_(target_, std::forward<Args>(args)...); }

 private:
  union Target {
    void* object;
    void (*function)();
  };

  // R = void discards whatever the callable returns.
  template <typename F>
  static R call_object(Target t, Args... args) {
    F& f = *static_cast<F*>(t.object);
    if constexpr (std::is_void_v<R>) {
      f(std::forward<Args>(args)...);
    } else {
      return f(std::forward<Args>(args)...);
    }
  }
  template <typename F>
  static R call_function(Target t, Args... args) {
    F* f = reinterpret_cast<F*>(t.function);
    if constexpr (std::is_void_v<R>) {
      f(std::forward<Args>(args)...);
    } else {
      return f(std::forward<Args>(args)...);
    }
  }

  Target target_;
  R (*call_)(Target, Args...);
};

}  // namespace nystrom
