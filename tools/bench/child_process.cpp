#include "child_process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

namespace nystrom::benchtool {

std::vector<double> child_numbers(const std::string& self, const std::vector<std::string>& args, size_t count) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(self.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execv(self.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t got; pid > 0 && ((got = ::read(fds[0], buf, sizeof buf)) > 0 || (got < 0 && errno == EINTR));)
    if (got > 0) out.append(buf, (size_t)got);
  ::close(fds[0]);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
  std::istringstream in(out);
  std::vector<double> numbers;
  for (double v; numbers.size() < count && in >> v;) numbers.push_back(v);
  if (numbers.size() < count) return {};
  return numbers;
}

}  // namespace nystrom::benchtool
