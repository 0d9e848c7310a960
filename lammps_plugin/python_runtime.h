// The Python side of the pair style: starting an interpreter when the process has
// none (the `lmp` executable), holding the GIL, and turning exceptions into text.
// Include Python.h before any standard header in files that use this.
#ifndef GAUNT_PYTHON_RUNTIME_H
#define GAUNT_PYTHON_RUNTIME_H

#include <Python.h>

#include <string>

namespace gaunt {

// Start an interpreter for the configured Python (GAUNT_MD_PYTHON, else the one the
// plugin was built with) unless one runs already.  Empty on success, else the reason.
std::string ensure_python();

// true while calls into Python are safe (interpreter up and not shutting down)
bool python_alive();

// RAII holder of the GIL, valid from any thread once ensure_python() succeeded
class GilLock {
 public:
  GilLock() : state_(PyGILState_Ensure()) {}
  ~GilLock() { PyGILState_Release(state_); }
  GilLock(const GilLock &) = delete;
  GilLock &operator=(const GilLock &) = delete;

 private:
  PyGILState_STATE state_;
};

// Describe and clear the pending exception (GIL held): a one-line message for the
// input errors gaunt_md.lammps.bridge reports, the full traceback otherwise.
std::string take_exception();

}    // namespace gaunt

#endif
