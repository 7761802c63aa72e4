#include "base/thread_name.h"

#include <pthread.h>

#include <string>

namespace callvault {

void SetCurrentThreadName(std::string_view name) {
  const std::string n(name.substr(0, 15));
  pthread_setname_np(pthread_self(), n.c_str());
}

}  // namespace callvault
